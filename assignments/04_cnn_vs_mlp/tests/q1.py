from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_lecture_pair_public(make_lecture_cnn, make_lecture_mlp):
    import torch
    from shared.testing.cnn_vs_mlp import CNN_FORWARD_HINT, LECTURE_CNN_HINT, LECTURE_MLP_HINT, MLP_FORWARD_HINT, call, check_dropout, check_forward, check_logits, check_module, check_param_count
    torch.manual_seed(0)
    x = torch.rand(3, 1, 28, 28)
    for desc, make, count, count_hint, forward_hint in [('make_lecture_cnn()', make_lecture_cnn, 421642, LECTURE_CNN_HINT, CNN_FORWARD_HINT), ('make_lecture_mlp()', make_lecture_mlp, 418666, LECTURE_MLP_HINT, MLP_FORWARD_HINT)]:
        model = check_module(call(make, desc=desc), desc)
        check_param_count(model, count, desc, count_hint)
        check_logits(check_forward(model.eval(), x, (3, 10), desc, forward_hint), f'{desc}(x)')
    check_dropout(make_lecture_cnn(), 'make_lecture_cnn()', x, 'Hint: one Dropout(0.3), after the ReLU of the 128-unit layer.')

