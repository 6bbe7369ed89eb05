from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_params_lecture_public(env):
    from shared.testing import conv_output_sizes as t
    conv2d_params, linear_params = (env.get('conv2d_params'), env.get('linear_params'))
    dense = [(3072, 100, False), (3072, 100), (100 * 100, 1, False)]
    conv = [(3, 64, 3, 1, False), (3, 64, 3), (1, 1, 3, 1, False), (1, 1, (3, 5))]
    lecture = " (the lecture's example)"
    t.check_linear_params(linear_params, [t.LinearParamCase(*c) for c in dense], what=lecture)
    t.check_conv2d_params(conv2d_params, [t.ConvParamCase(*c) for c in conv], what=lecture)

@test_case(points=None, hidden=False)
def test_params_vs_torch_public(env):
    from shared.testing import conv_output_sizes as t
    conv2d_params, linear_params = (env.get('conv2d_params'), env.get('linear_params'))
    convs = t.conv_param_cases(7, 40, groups=[1, 1, 1, 2, 4], per_group=(1, 6), kernel=(1, 6), p_pair=0.5, p_bias=0.7)
    t.check_conv2d_params(conv2d_params, convs)
    dense = [(1, 1), (784, 512), (7, 3, False), (12, 1), (5, 5)]
    t.check_linear_params(linear_params, [t.LinearParamCase(*c) for c in dense])

