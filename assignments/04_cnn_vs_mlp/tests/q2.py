from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 4

@test_case(points=None, hidden=False)
def test_make_cnn_public(make_cnn):
    import torch
    from shared.testing.cnn_vs_mlp import check_cnn_builder, check_device_free
    torch.manual_seed(0)
    for canvas, channels, n_classes in [(16, (16, 32), 10), (20, (6, 12), 10), (12, (4, 8), 3)]:
        check_cnn_builder(make_cnn, canvas, channels, n_classes)
    check_device_free(make_cnn, 'make_cnn()', (2, 1, 16, 16), (2, 10))

@test_case(points=None, hidden=False)
def test_make_mlp_and_budget_public(make_mlp, mlp_hidden):
    import torch
    from shared.testing.cnn_vs_mlp import check_budget, check_device_free, check_mlp_builder
    torch.manual_seed(0)
    for canvas, hidden, n_classes in [(16, (40,), 10), (10, (7, 5), 3)]:
        check_mlp_builder(make_mlp, canvas, hidden, n_classes)
    check_device_free(make_mlp, 'make_mlp()', (2, 1, 16, 16), (2, 10))
    check_budget(mlp_hidden)

