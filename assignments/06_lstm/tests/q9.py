from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 2

@test_case(points=None, hidden=False)
def test_forecast_public(env):
    from shared.testing import gate
    from shared.testing.lstm import answered, check_float, check_forecast_claim, check_forecaster
    skipped = gate({'q8': lambda: check_forecaster(env.get('Forecaster'), hidden_size=6, seed=0)})
    forecast_mse, baseline_mse = (answered(env, name, skipped) for name in ('forecast_mse', 'baseline_mse'))
    if skipped is not None:
        return skipped
    forecast_mse, baseline_mse = (check_float(value, name) for name, value in (('forecast_mse', forecast_mse), ('baseline_mse', baseline_mse)))
    assert forecast_mse > 0 and baseline_mse > 0, f'mean squared errors are positive, got {forecast_mse!r} and {baseline_mse!r}'
    check_forecast_claim(forecast_mse, baseline_mse, 'the test signals')

