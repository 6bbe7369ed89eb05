from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_pool_output_size_public(pool_output_size):
    from shared.testing import conv_output_sizes as t
    first = [(28, 2), (7, 2), (7, 2, None, 0, 1, True), (5, 2, 2, 1, 1, True), (6, 3, 3, 1, 1, True)]
    ranges = dict(n=(1, 30), kernel=(1, 6), stride=(1, 5), dilation=(1, 3))
    cases = t.pool_cases(3, 300, **ranges, p_default_stride=0.25, p_ceil=0.6, p_avg=0.2, fixed=first)
    t.check_pool_output_size(pool_output_size, cases)

@test_case(points=None, hidden=False)
def test_conv_transpose_output_size_public(conv_transpose_output_size):
    from shared.testing import conv_output_sizes as t
    ranges = dict(n=(1, 20), kernel=(1, 6), stride=(1, 4), padding=(0, 3), dilation=(1, 3))
    cases = t.transpose_cases(5, 200, **ranges, fixed=[(7, 2, 2)])
    t.check_conv_transpose_output_size(conv_transpose_output_size, cases)

