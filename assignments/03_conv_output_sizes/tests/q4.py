from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_trace_lecture_public(trace_shapes, count_stack_parameters):
    from torch import nn
    from shared.checks import check_implemented
    from shared.forbid import forbid
    run_names = [f'torch.nn.{name}.forward' for name in ('Conv2d', 'ConvTranspose2d', 'MaxPool2d', 'AvgPool2d', 'Linear', 'Flatten')]
    reason = "Work the shapes out from each layer's attributes with your formulas; do not call the layer."
    small = [nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10)]
    with forbid(*run_names, reason=reason):
        shapes = trace_shapes(small, (1, 28, 28))
    check_implemented(shapes, 'trace_shapes(lecture CNN, (1, 28, 28))')
    want = [(16, 28, 28), (16, 28, 28), (16, 14, 14), (32, 14, 14), (32, 14, 14), (32, 7, 7), (1568,), (10,)]
    got = [tuple((int(v) for v in s)) for s in shapes]
    assert got == want, f"trace_shapes of the lecture's 1->16->32 CNN on (1, 28, 28) returned {got}, expected {want}. Hint: padding=1 with a 3x3 kernel keeps 28x28; MaxPool2d(2) halves it (stride defaults to kernel_size); Flatten multiplies C*H*W = 32*7*7 = 1568."
    cnn = [nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10)]
    mlp = [nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 32), nn.ReLU(), nn.Linear(32, 10)]
    with forbid('torch.nn.Module.parameters', 'torch.nn.Module.named_parameters', reason="Count from the layers' hyper-parameters with conv2d_params and linear_params."):
        n_cnn, n_mlp = (count_stack_parameters(cnn), count_stack_parameters(mlp))
    check_implemented(n_cnn, 'count_stack_parameters(lecture CNN)')
    hint = 'Hint: conv (k_h k_w C_in / groups + 1) C_out and dense (n_in + 1) n_out, the +1 only when layer.bias is not None; ReLU, pooling, Dropout and Flatten have no parameters.'
    assert n_cnn == 421642, f"count_stack_parameters of the lecture's CNN (1->32->64 convs, 3136->128->10 head) should be 421,642, got {n_cnn!r}. {hint}"
    assert n_mlp == 418666, f"count_stack_parameters of the lecture's MLP (784->512->32->10) should be 418,666, got {n_mlp!r}. {hint}"
    with forbid(*run_names, reason=reason):
        got = [tuple((int(v) for v in s)) for s in trace_shapes(mlp, (1, 28, 28))]
    assert got[0] == (784,) and got[-1] == (10,), f'trace_shapes(MLP, (1, 28, 28)) returned {got}; Flatten should give (784,) and the last Linear (10,). Hint: Flatten gives (C * H * W,).'

@test_case(points=None, hidden=False)
def test_trace_random_public(trace_shapes, count_stack_parameters):
    import numpy as np
    import torch
    from torch import nn
    from shared.checks import check_implemented
    from shared.forbid import forbid

    def random_layer(rng, channels):
        kind = rng.choice(['conv', 'conv', 'pool', 'avg', 'relu', 'convT'])
        pair = lambda low, high: (int(rng.integers(low, high)), int(rng.integers(low, high)))
        if kind == 'conv':
            return nn.Conv2d(channels, int(rng.integers(1, 6)), pair(1, 5), stride=pair(1, 3), padding=pair(0, 3), dilation=pair(1, 3), bias=bool(rng.random() < 0.7))
        if kind == 'convT':
            stride = pair(1, 3)
            return nn.ConvTranspose2d(channels, int(rng.integers(1, 5)), pair(1, 4), stride=stride, padding=pair(0, 2), output_padding=(int(rng.integers(0, stride[0])), int(rng.integers(0, stride[1]))))
        if kind in ('pool', 'avg'):
            k = pair(1, 4)
            stride = None if rng.random() < 0.5 else pair(1, 4)
            padding = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
            ceil = bool(rng.random() < 0.5)
            if kind == 'avg':
                return nn.AvgPool2d(k, stride=stride, padding=padding, ceil_mode=ceil)
            return nn.MaxPool2d(k, stride=stride, padding=padding, dilation=int(rng.integers(1, 3)), ceil_mode=ceil)
        return nn.ReLU()
    run_names = [f'torch.nn.{name}.forward' for name in ('Conv2d', 'ConvTranspose2d', 'MaxPool2d', 'AvgPool2d', 'Linear', 'Flatten')]
    rng = np.random.default_rng(11)
    torch.manual_seed(11)
    first = True
    for _ in range(30):
        shape = (int(rng.integers(1, 4)), int(rng.integers(4, 30)), int(rng.integers(4, 30)))
        x = torch.zeros(1, *shape)
        layers, expected = ([], [])
        with torch.no_grad():
            while len(layers) < int(rng.integers(2, 7)):
                layer = random_layer(rng, x.shape[1])
                try:
                    y = layer(x)
                except RuntimeError:
                    continue
                if y.shape[-1] < 1 or y.shape[-2] < 1:
                    continue
                layers.append(layer)
                expected.append(tuple(y.shape[1:]))
                x = y
            if rng.random() < 0.5:
                layers += [nn.Flatten(), nn.Linear(x[0].numel(), int(rng.integers(1, 20)))]
                expected += [(x[0].numel(),), (layers[-1].out_features,)]
        for end in range(1, len(layers) + 1):
            layer, before = (layers[end - 1], shape if end == 1 else expected[end - 2])
            hint = 'Hint: height and width are separate: use kernel_size[0], stride[0], ... for H and [1] for W.'
            described = str(layer)
            if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                hint += " Pass the layer's ceil_mode to pool_output_size."
            if isinstance(layer, nn.AvgPool2d):
                described += f' with ceil_mode={layer.ceil_mode}'
            where = f"trace_shapes on input {shape}: layer {end - 1}, {described}, whose input has shape {before} (PyTorch's output: {expected[end - 1]})"
            try:
                with forbid(*run_names, reason="Work the shapes out from each layer's attributes with your formulas; do not call the layer."):
                    shapes = trace_shapes(layers[:end], shape)
            except ValueError as err:
                raise AssertionError(f'{where}: your trace raised ValueError({err}), but PyTorch runs this layer. {hint}\n(the stack: {layers[:end]})') from None
            if first:
                check_implemented(shapes, 'trace_shapes(layers, input_shape)')
                first = False
            got = [tuple((int(v) for v in s)) for s in shapes]
            assert len(got) == end, f'trace_shapes returned {len(got)} shapes for {end} layers. Hint: one shape per layer, in order.'
            assert got[-1] == expected[end - 1], f'{where}: you give {got[-1]}. {hint}\n(the stack: {layers[:end]})'
        with forbid('torch.nn.Module.parameters', 'torch.nn.Module.named_parameters', reason="Count from the layers' hyper-parameters with conv2d_params and linear_params."):
            count = count_stack_parameters(layers)
        want = sum((p.numel() for layer in layers for p in layer.parameters()))
        assert count == want, f'count_stack_parameters({layers}) returned {count!r}, but the layers have {want} parameters. Hint: conv (k_h k_w C_in / groups + 1) C_out, dense (n_in + 1) n_out, the +1 only with a bias.'

@test_case(points=None, hidden=False)
def test_trace_errors_public(trace_shapes):
    from torch import nn
    from shared.checks import check_implemented
    check_implemented(trace_shapes([nn.ReLU()], (1, 4, 4)), 'trace_shapes([nn.ReLU()], (1, 4, 4))')
    for layers, shape, why in [([nn.Conv2d(3, 8, 3)], (1, 28, 28), 'the Conv2d expects 3 channels but gets 1'), ([nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(100, 10)], (1, 8, 8), 'the Linear expects 100 features but gets 4*6*6 = 144'), ([nn.Conv2d(1, 4, 5)], (1, 3, 3), 'the 5x5 kernel does not fit a 3x3 input')]:
        try:
            got = trace_shapes(layers, shape)
        except ValueError:
            continue
        except Exception as err:
            raise AssertionError(f"trace_shapes({layers}, {shape}) raised {type(err).__name__}({err}) instead of ValueError ({why}). Hint: check channels and features, and let conv_output_size's ValueError through.") from None
        raise AssertionError(f'trace_shapes({layers}, {shape}) returned {got} but should raise ValueError: {why}. Hint: compare layer.in_channels / layer.in_features with the incoming shape.')

