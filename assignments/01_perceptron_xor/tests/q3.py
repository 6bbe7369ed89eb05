from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 4

@test_case(points=None, hidden=False)
def test_perceptron_predict_public(env):
    perceptron_predict = env.get('perceptron_predict')
    import numpy as np
    from shared.testing.perceptron_xor import check_predict
    X = np.array([[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0], [2.0, -1.0]])
    w = np.array([1.0, 1.0])
    for b in (0.0, -1.5):
        check_predict(perceptron_predict, X, w, b, label=f'perceptron_predict(X={X.tolist()}, w=[1, 1], b={b})')

@test_case(points=None, hidden=False)
def test_perceptron_train_public(env):
    perceptron_train, perceptron_predict = (env.get('perceptron_train'), env.get('perceptron_predict'))
    import numpy as np
    from shared.data import logic_gate
    from shared.testing.perceptron_xor import BATCH_HINT, STRICT_HINT, call, check_perceptron_run, check_separable_fit, unpack_perceptron
    for gate in ('and', 'or'):
        X, y = logic_gate(gate)
        check_separable_fit(perceptron_train, perceptron_predict, X, y, epochs=100, seed=0, label=f'perceptron_train(X_{gate}, y_{gate}, epochs=100, seed=0)')
    X = np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, 0.5]])
    label = f'perceptron_train(X={X.tolist()}, y=[1, 1, 1], epochs=10, seed=0)'
    run = unpack_perceptron(call(perceptron_train, X, np.ones(3), epochs=10, seed=0, label=label), 2, label=label)
    check_perceptron_run(run, (np.zeros(2), 0.0, [0]), label=label)
    X = np.array([[1.0, 2.0]] * 3)
    label = f'perceptron_train(X={X.tolist()}, y=[0, 0, 0], lr=0.5, epochs=10, seed=0)'
    run = unpack_perceptron(call(perceptron_train, X, np.zeros(3), lr=0.5, epochs=10, seed=0, label=label), 2, label=label)
    check_perceptron_run(run, (np.array([-0.5, -1.0]), -0.5, [1, 0]), label=label, alternatives={BATCH_HINT: (np.array([-1.5, -3.0]), -1.5, [3, 0]), STRICT_HINT: (np.zeros(2), 0.0, [0])})

