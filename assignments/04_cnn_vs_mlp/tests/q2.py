from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 4

@test_case(points=None, hidden=False)
def test_make_cnn_public(make_cnn):
    import torch
    from torch import nn
    from shared.checks import assert_shape, check_implemented
    flatten_hint = 'Hint: compute the flatten size from `canvas`: two MaxPool2d(2) leave a side of canvas // 4, so the head is nn.Linear(c2 * (canvas // 4) ** 2, n_classes).'
    torch.manual_seed(0)
    for canvas, channels, n_classes in [(16, (16, 32), 10), (20, (6, 12), 10), (12, (4, 8), 3)]:
        call = f'make_cnn(canvas={canvas}, channels={channels}, n_classes={n_classes})'
        model = make_cnn(canvas=canvas, channels=channels, n_classes=n_classes)
        check_implemented(model, call)
        assert isinstance(model, nn.Module), f'{call} should return an nn.Module, got {type(model).__name__}'
        c1, c2 = channels
        side = canvas // 4
        expected = 9 * c1 + c1 + (9 * c1 * c2 + c2) + (c2 * side * side + 1) * n_classes
        n = sum((p.numel() for p in model.parameters()))
        assert n == expected, f'{call} has {n:,} parameters, expected {expected:,} = conv1 {10 * c1} + conv2 {9 * c1 * c2 + c2} + head {(c2 * side * side + 1) * n_classes}. {flatten_hint}'
        try:
            out = model(torch.rand(2, 1, canvas, canvas))
        except RuntimeError as err:
            raise AssertionError(f'{call} fails on a batch of shape (2, 1, {canvas}, {canvas}): {str(err).splitlines()[0]}. {flatten_hint}') from None
        assert_shape(out, (2, n_classes), f'{call}(x) for x of shape (2, 1, {canvas}, {canvas})')
        assert not torch.allclose(out.sum(dim=1), torch.ones(2)), f'The rows of {call}(x) sum to 1: the model outputs probabilities. Hint: return logits and drop the softmax; nn.CrossEntropyLoss applies log-softmax itself.'
    with torch.device('meta'):
        on_meta = make_cnn()
    devices = {str(p.device) for p in on_meta.parameters()}
    assert devices == {'meta'}, f"Built under `with torch.device('meta')`, make_cnn() put parameters on {sorted(devices)}. Hint: do not hard-code a device inside the builder; move the model later with model.to(device)."

@test_case(points=None, hidden=False)
def test_make_mlp_and_budget_public(make_mlp, make_cnn, mlp_hidden):
    import torch
    from torch import nn
    from shared.checks import assert_shape, check_implemented
    for canvas, hidden, n_classes in [(16, (40,), 10), (10, (7, 5), 3)]:
        call = f'make_mlp(canvas={canvas}, hidden={hidden}, n_classes={n_classes})'
        model = make_mlp(canvas=canvas, hidden=hidden, n_classes=n_classes)
        check_implemented(model, call)
        assert isinstance(model, nn.Module), f'{call} should return an nn.Module, got {type(model).__name__}'
        widths = [canvas * canvas, *hidden, n_classes]
        expected = sum(((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True)))
        n = sum((p.numel() for p in model.parameters()))
        assert n == expected, f"{call} has {n:,} parameters, expected {expected:,} for Linear layers {' -> '.join(map(str, widths))}. Hint: one Linear + ReLU per hidden width, then Linear(hidden[-1], n_classes); the input has canvas * canvas features."
        out = model(torch.rand(3, 1, canvas, canvas))
        assert_shape(out, (3, n_classes), f'{call}(x) for x of shape (3, 1, {canvas}, {canvas})')
        relus = sum((isinstance(m, nn.ReLU) for m in model.modules()))
        assert relus == len(hidden), f'{call} should have one ReLU per hidden layer ({len(hidden)}), found {relus}'
    with torch.device('meta'):
        on_meta = make_mlp()
    devices = {str(p.device) for p in on_meta.parameters()}
    assert devices == {'meta'}, f"Built under `with torch.device('meta')`, make_mlp() put parameters on {sorted(devices)}. Hint: do not hard-code a device inside the builder; move the model later with model.to(device)."
    check_implemented(mlp_hidden, 'mlp_hidden')
    assert len(tuple(mlp_hidden)) >= 1, f'mlp_hidden should list at least one hidden width, got {mlp_hidden!r}'
    n_cnn = sum((p.numel() for p in make_cnn().parameters()))
    n_mlp = sum((p.numel() for p in make_mlp(hidden=tuple(mlp_hidden)).parameters()))
    assert abs(n_mlp - n_cnn) <= 0.1 * n_cnn, f'make_mlp(hidden={tuple(mlp_hidden)}) has {n_mlp:,} parameters, make_cnn() {n_cnn:,}: the budgets differ by {abs(n_mlp - n_cnn) / n_cnn:.1%}, more than 10%. Hint: on the 16x16 canvas one hidden layer of width h has (256 + 1) h + (h + 1) 10 = 267 h + 10 parameters; choose h so that this is within 10% of 9,930.'

