from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 4

@test_case(points=None, hidden=False)
def test_losses_public(mse_loss, softmax_cross_entropy):
    import numpy as np
    import torch
    import torch.nn.functional as F
    from shared.checks import assert_close, check_implemented
    from shared.forbid import forbid
    no_autograd = ('torch.autograd.grad', 'torch.autograd.backward')
    reason = 'Compute the gradient yourself with NumPy.'
    rng = np.random.default_rng(1)
    pred, target = (rng.normal(size=(4, 3)), rng.normal(size=(4, 3)))
    with forbid(*no_autograd, reason=reason):
        result = mse_loss(pred.copy(), target.copy())
    check_implemented(result, 'mse_loss(pred, target)')
    assert isinstance(result, tuple) and len(result) == 2, f'mse_loss should return a tuple (loss, dpred), got {type(result).__name__}'
    loss, dpred = result
    pt = torch.tensor(pred, requires_grad=True)
    lt = F.mse_loss(pt, torch.tensor(target))
    lt.backward()
    assert_close(float(loss), lt.item(), name='mse_loss(pred, target)[0] for (4, 3) inputs', rtol=1e-10, atol=1e-12, hint='Hint: the mean of (pred - target)**2 over all N*D entries.')
    assert_close(np.asarray(dpred, dtype=float), pt.grad.numpy(), name='mse_loss(pred, target)[1], the gradient dpred, for (4, 3) inputs', rtol=1e-10, atol=1e-12, hint='Hint: dpred = 2 (pred - target) / M with M = pred.size entries; keep the factor 2 from the square.')
    hint = 'Hint: the loss is the mean over the N examples, so dlogits = (softmax(logits) - onehot(labels)) / N, divided by N exactly once.'
    cases = [('random logits of shape (4, 5)', rng.normal(scale=3.0, size=(4, 5)), np.array([0, 3, 3, 1])), ('logits around +-1000', np.array([[1000.0, -1000.0, 999.0], [-1000.0, -999.0, -1000.5]]), np.array([2, 0]))]
    for what, logits, labels in cases:
        with forbid(*no_autograd, reason=reason), np.errstate(all='ignore'):
            result = softmax_cross_entropy(logits.copy(), labels.copy())
        check_implemented(result, 'softmax_cross_entropy(logits, labels)')
        assert isinstance(result, tuple) and len(result) == 2, f'softmax_cross_entropy should return a tuple (loss, dlogits), got {type(result).__name__}'
        loss, dlogits = result
        zt = torch.tensor(logits, requires_grad=True)
        lt = F.cross_entropy(zt, torch.tensor(labels))
        lt.backward()
        stable = 'Hint: subtract the max of each row (logits.max(axis=1, keepdims=True)) before np.exp, and compute log p as shifted - log(sum(exp(shifted))).'
        name = f'softmax_cross_entropy(logits, labels={labels.tolist()}) for {what}'
        assert np.isfinite(float(loss)) and np.isfinite(np.asarray(dlogits, dtype=float)).all(), f'{name} returned loss {loss} and dlogits {np.asarray(dlogits).tolist()}: not finite; exp(1000) overflows to inf. {stable}'
        assert_close(float(loss), lt.item(), name=f'{name}: the loss', rtol=1e-10, atol=1e-10, hint=stable + ' The loss is the mean over the batch of -log p[n, labels[n]].')
        n = len(labels)
        extra = ''
        expected = zt.grad.numpy()
        ratio = float(np.median(np.asarray(dlogits, dtype=float)[expected != 0] / expected[expected != 0])) if np.shape(dlogits) == expected.shape else 0.0
        if abs(ratio - n) < 1e-06 * n:
            extra = f' Yours is N = {n} times too large: it is not divided by N.'
        elif abs(ratio - 1 / n) < 1e-06:
            extra = f' Yours is N = {n} times too small: it is divided by N twice.'
        assert_close(np.asarray(dlogits, dtype=float), expected, name=f'{name}: the gradient dlogits', rtol=1e-08, atol=1e-12, hint=hint + extra)

