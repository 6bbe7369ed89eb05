from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 5

@test_case(points=None, hidden=False)
def test_lstm_public(lstm_cell, lstm_forward):
    import torch
    from shared.testing.lstm import check_layer, check_lstm_cell
    torch.manual_seed(0)
    check_lstm_cell(lstm_cell, batch=3, input_size=4, hidden_size=5, seed=0)
    check_layer(lstm_forward, 'lstm', input_size=10, hidden_size=32, num_layers=2, batch=5, T=3, seed=1)
    check_layer(lstm_forward, 'lstm', input_size=10, hidden_size=32, num_layers=2, batch=5, T=3, given_state=True, seed=2)
    check_layer(lstm_forward, 'lstm', input_size=3, hidden_size=4, num_layers=1, batch=2, T=5, batch_first=False, seed=3)

@test_case(points=None, hidden=False)
def test_param_counts_public(recurrent_param_count, lecture_counts):
    from shared.testing.lstm import check_lecture_counts, check_param_count
    for kind in ('rnn', 'lstm', 'gru'):
        check_param_count(recurrent_param_count, kind, 10, 20, 1)
    check_param_count(recurrent_param_count, 'lstm', 10, 32, 2)
    check_lecture_counts(lecture_counts)

