from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 5

@test_case(points=None, hidden=False)
def test_conv2d_public(conv2d):
    from shared.testing import conv_output_sizes as t
    first = [((1, 1, 5, 5), (1, 1, 3, 3), True, 1, 0, 1), ((2, 3, 8, 8), (4, 3, 3, 3), True, 1, 1, 1), ((2, 2, 7, 9), (3, 2, 2, 3), False, 2, 1, 1), ((1, 3, 10, 10), (2, 3, 3, 3), True, 1, 2, 2), ((3, 1, 6, 11), (2, 1, 3, 1), True, (2, 1), (0, 1), (1, 2))]
    sizes = dict(batch=(1, 4), c_in=(1, 4), c_out=(1, 5), size=(5, 14), kernel=(1, 4))
    settings = dict(stride=(1, 3), padding=(0, 2), dilation=(1, 3), p_bias=0.7)
    t.check_conv2d(conv2d, t.conv2d_cases(8, 15, **sizes, **settings, fixed=first), seed=8)

@test_case(points=None, hidden=False)
def test_max_pool2d_public(max_pool2d):
    from shared.testing import conv_output_sizes as t
    first = [((1, 1, 4, 4), 2), ((2, 3, 7, 7), 2), ((2, 2, 9, 8), 3, 2, 1), ((1, 3, 6, 10), (2, 3), (1, 2), (1, 1)), ((3, 1, 5, 5), 3, 1, 1)]
    sizes = dict(batch=(1, 3), channels=(1, 3), size=(4, 12), kernel=(1, 4), stride=(1, 3))
    cases = t.max_pool2d_cases(9, 10, **sizes, p_default_stride=0.3, fixed=first)
    t.check_max_pool2d(max_pool2d, cases, seed=9, shift=-1.0)

@test_case(points=None, hidden=False)
def test_vectorised_public(conv2d, max_pool2d):
    from shared.testing import conv_output_sizes as t
    t.check_vectorised(conv2d, max_pool2d)

