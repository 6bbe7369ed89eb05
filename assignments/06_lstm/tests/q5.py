from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=None, hidden=False)
def test_gru_public(gru_cell):
    import torch
    from shared.testing.lstm import check_gru_cell
    torch.manual_seed(0)
    check_gru_cell(gru_cell, batch=3, input_size=4, hidden_size=5, seed=0)

