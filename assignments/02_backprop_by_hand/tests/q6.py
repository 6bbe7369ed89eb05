from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 5

@test_case(points=None, hidden=False)
def test_mlp_and_sgd_public(env, TwoLayerMLP, sgd_step):
    from shared.testing.backprop_by_hand import check_mlp, check_sgd_step
    check_mlp(TwoLayerMLP, 6, 5, 3, n=4, seed=6, env=env)
    check_sgd_step(sgd_step, seed=6, shapes=[(6, 5), (5,), (5, 3), (3,)], lr=0.1)

@test_case(points=None, hidden=False)
def test_train_mlp_public(env, train_mlp, accuracy, rng_seed):
    from shared.testing.backprop_by_hand import check_train_mlp
    check_train_mlp(train_mlp, accuracy, env=env, hidden=64, epochs=8, lr=0.05, batch_size=16, seed=rng_seed, min_accuracy=0.85)

