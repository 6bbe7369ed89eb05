from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 5

@test_case(points=None, hidden=False)
def test_mlp_and_sgd_public(TwoLayerMLP, sgd_step):
    import numpy as np
    import torch
    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid
    no_autograd = ('torch.autograd.grad', 'torch.autograd.backward')
    rng = np.random.default_rng(6)
    model = TwoLayerMLP(6, 5, 3, rng=0)
    lin1, lin2 = (model.layers[0], model.layers[2])
    lin1.b, lin2.b = (rng.normal(size=5), rng.normal(size=3))
    x, dlogits = (rng.normal(size=(4, 6)), rng.normal(size=(4, 3)))
    params = [torch.tensor(a.copy(), requires_grad=True) for a in (lin1.W, lin1.b, lin2.W, lin2.b)]
    xt = torch.tensor(x, requires_grad=True)
    logits_t = torch.relu(xt @ params[0] + params[1]) @ params[2] + params[3]
    logits_t.backward(torch.tensor(dlogits))
    with forbid(*no_autograd, reason="Use your layers' backward."):
        logits = model.forward(x.copy())
        check_implemented(logits, 'TwoLayerMLP(6, 5, 3).forward(x)')
        dx = model.backward(dlogits.copy())
    order = "Hint: forward goes through self.layers in order, backward through reversed(self.layers), each layer's output feeding the next."
    assert_close(np.asarray(logits, dtype=float), logits_t.detach().numpy(), name='TwoLayerMLP(6, 5, 3).forward(x) for x of shape (4, 6)', rtol=1e-10, atol=1e-12, hint=order)
    check_implemented(dx, 'TwoLayerMLP.backward(dlogits)')
    assert_close(np.asarray(dx, dtype=float), xt.grad.numpy(), name='TwoLayerMLP.backward(dlogits): the returned dx', rtol=1e-08, atol=1e-12, hint=order)
    for name, (_, g), pt in zip(['layer 0 (Linear 6->5): dW', 'layer 0: db', 'layer 2 (Linear 5->3): dW', 'layer 2: db'], model.params_and_grads(), params, strict=True):
        assert_close(np.asarray(g, dtype=float), pt.grad.numpy(), name=f'TwoLayerMLP.backward: {name}', rtol=1e-08, atol=1e-12, hint=order)
    before = [p.copy() for p, _ in model.params_and_grads()]
    grads = [g.copy() for _, g in model.params_and_grads()]
    sgd_step(model.params_and_grads(), 0.1)
    sign = 'Hint: move against the gradient, param -= lr * grad, in place on the array (param = param - ... only rebinds the name).'
    for name, old, g, (p, _) in zip(['W of layer 0', 'b of layer 0', 'W of layer 2', 'b of layer 2'], before, grads, model.params_and_grads(), strict=True):
        assert_close(p, old - 0.1 * g, name=f'{name} after sgd_step(model.params_and_grads(), lr=0.1)', rtol=1e-12, atol=1e-12, hint=sign)

@test_case(points=None, hidden=False)
def test_train_mlp_public(train_mlp, accuracy, rng_seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from shared.checks import check_implemented
    from shared.forbid import forbid
    digits = load_digits()
    X_tr, X_te, y_tr, y_te = train_test_split(digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target)
    with forbid('torch.autograd.grad', 'torch.autograd.backward', reason='Use your own backward pass.'):
        result = train_mlp(X_tr, y_tr, X_te, y_te, hidden=64, epochs=8, lr=0.05, batch_size=16, seed=rng_seed)
    check_implemented(result, 'train_mlp(X_train, y_train, X_test, y_test, epochs=8)')
    model, history = result
    assert isinstance(history, dict) and all((len(history.get(k, [])) == 8 for k in ('loss', 'train_acc', 'val_acc'))), f"history should hold 8 entries (one per epoch) under 'loss', 'train_acc' and 'val_acc'; got {({k: len(v) for k, v in history.items()} if isinstance(history, dict) else history)!r}"
    hint = 'Hint: each batch: forward, softmax_cross_entropy, backward, then sgd_step with param -= lr * grad (against the gradient); shuffle with rng.permutation each epoch.'
    assert history['loss'][-1] < history['loss'][0], f"The training loss should fall over 8 epochs; it went {[round(v, 4) for v in history['loss']]}. {hint}"
    acc = accuracy(model, X_te, y_te)
    assert acc >= 0.85, f"After 8 epochs (hidden=64, lr=0.05, batch_size=16, seed {rng_seed}) the test accuracy is {acc:.3f}; it should be at least 0.85 (the reference reaches about 0.95). Training loss per epoch: {[round(v, 3) for v in history['loss']]}. {hint}"

