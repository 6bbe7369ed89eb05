from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_lecture_pair_public(make_lecture_cnn, make_lecture_mlp):
    import torch
    from torch import nn
    from shared.checks import assert_shape, check_implemented
    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28)
    for name, make, expected, hint in [('make_lecture_cnn()', make_lecture_cnn, 421642, 'Hint: conv 1->32 (3x3): 320, conv 32->64 (3x3): 18,496, Linear(64*7*7, 128): 401,536, Linear(128, 10): 1,290.'), ('make_lecture_mlp()', make_lecture_mlp, 418666, 'Hint: Linear(784, 512): 401,920, Linear(512, 32): 16,416, Linear(32, 10): 330.')]:
        model = make()
        check_implemented(model, name)
        assert isinstance(model, nn.Module), f'{name} should return an nn.Module, got {type(model).__name__}'
        n = sum((p.numel() for p in model.parameters()))
        assert n == expected, f'{name} has {n:,} parameters instead of {expected:,}. {hint} Keep every bias.'
        model.eval()
        try:
            out = model(x)
        except RuntimeError as err:
            raise AssertionError(f'{name}(x) for x of shape (3, 1, 28, 28) raised: {str(err).splitlines()[0]}. Hint: with padding=1 each 3x3 convolution keeps 28x28 (then 14x14), and each MaxPool2d(2) halves it, so the flattened features have 64 * 7 * 7 = 3136 entries.') from None
        assert_shape(out, (3, 10), f'{name}(x) for x of shape (3, 1, 28, 28)', hint='Return one logit per class, (N, 10).')
    cnn = make_lecture_cnn()
    rates = [m.p for m in cnn.modules() if isinstance(m, nn.Dropout)]
    assert rates == [0.3], f"The lecture's CNN has one nn.Dropout(0.3) (after the ReLU of its 128-unit layer); yours has dropout rates {rates}."
    assert not any((isinstance(m, (nn.Softmax, nn.LogSoftmax)) for m in cnn.modules())), 'The network should end with logits, not probabilities. Hint: drop the softmax layer; nn.CrossEntropyLoss applies log-softmax itself.'

