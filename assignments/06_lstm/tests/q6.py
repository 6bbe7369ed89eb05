from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_memory_parts_public(init_forget_bias, forget_bias_for, MemoryNet):
    from shared.testing.lstm import check_forget_bias_for, check_init_forget_bias, check_memory_model
    check_init_forget_bias(init_forget_bias, input_size=3, hidden_size=4, num_layers=1, value=1.0, seed=0)
    check_forget_bias_for(forget_bias_for, 30, 0.5)
    for kind in ('rnn', 'lstm'):
        check_memory_model(MemoryNet, kind, n_inputs=5, n_symbols=4, hidden_size=8, forget_bias=2.5, seed=1)

