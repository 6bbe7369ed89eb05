from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_make_loaders_public(make_loaders):
    from shared.digits import load_digits_data
    from shared.testing.cnn_vs_mlp import check_loaders
    check_loaders(make_loaders, canvas=16, shifted=True, batch_size=32, seed=0, load=load_digits_data)

@test_case(points=None, hidden=False)
def test_run_experiment_public(env, run_experiment):
    from shared.testing.cnn_vs_mlp import check_run_experiment
    check_run_experiment(run_experiment, epochs=3, lr=0.01, seed=2, env=env)

