from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 2

@test_case(points=None, hidden=False)
def test_forecast_public(forecast_mse, baseline_mse, Forecaster):
    from shared.checks import check_implemented
    from shared.testing.lstm import check_forecast_claim, check_forecaster, first_failure
    for name, value in (('forecast_mse', forecast_mse), ('baseline_mse', baseline_mse)):
        check_implemented(value, name)
        assert isinstance(value, float) and value > 0, f'{name} should be a positive float, got {value!r}'
    if first_failure({'q8': lambda: check_forecaster(Forecaster, hidden_size=6, seed=0)}) is None:
        check_forecast_claim(forecast_mse, baseline_mse, 'the test signals')

