from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 3

@test_case(points=None, hidden=False)
def test_forecaster_public(Forecaster):
    from shared.testing.lstm import check_forecaster
    check_forecaster(Forecaster, hidden_size=6, seed=0)

@test_case(points=None, hidden=False)
def test_last_hidden_public(last_hidden_packed):
    from shared.testing.lstm import check_last_hidden
    check_last_hidden(last_hidden_packed, 'gru', lengths=[5, 2, 7], input_size=3, hidden_size=4, seed=0)

