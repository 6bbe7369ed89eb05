from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 2

@test_case(points=None, hidden=False)
def test_forecast_public(env):
    from shared.testing import gate
    from shared.testing.lstm import answered, check_forecast_claim, check_forecaster
    skipped = gate({'q8': lambda: check_forecaster(env.get('Forecaster'), hidden_size=6, seed=0)})
    forecast_mse, baseline_mse = (answered(env, name, skipped) for name in ('forecast_mse', 'baseline_mse'))
    if skipped is not None:
        return skipped
    for name, value in (('forecast_mse', forecast_mse), ('baseline_mse', baseline_mse)):
        assert isinstance(value, float) and value > 0, f'{name} should be a positive float, got {value!r}'
    check_forecast_claim(forecast_mse, baseline_mse, 'the test signals')

