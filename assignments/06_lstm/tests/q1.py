from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 4

@test_case(points=None, hidden=False)
def test_rnn_cell_public(rnn_cell):
    import torch
    from shared.testing.lstm import check_rnn_cell
    torch.manual_seed(0)
    check_rnn_cell(rnn_cell, batch=5, input_size=10, hidden_size=20, seed=1)

@test_case(points=None, hidden=False)
def test_rnn_forward_public(rnn_forward):
    import torch
    from shared.testing.lstm import check_layer
    torch.manual_seed(0)
    check_layer(rnn_forward, 'rnn', input_size=10, hidden_size=20, num_layers=1, batch=5, T=3, seed=2)
    check_layer(rnn_forward, 'rnn', input_size=4, hidden_size=4, num_layers=2, batch=3, T=6, given_state=True, seed=3)
    check_layer(rnn_forward, 'rnn', input_size=3, hidden_size=5, num_layers=2, batch=2, T=4, batch_first=False, seed=4)

