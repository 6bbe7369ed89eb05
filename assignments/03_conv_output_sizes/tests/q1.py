from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_conv_output_size_public(conv_output_size):
    from shared.testing import conv_output_sizes as t
    first = [(28, 3, 1, 1), (32, 5), (7, 3, 2), (6, 3, 2), (28, 2, 2), (10, 3, 1, 0, 2)]
    ranges = dict(n=(1, 40), kernel=(1, 8), stride=(1, 5), padding=(0, 4), dilation=(1, 3))
    cases = t.conv_cases(0, 250, **ranges, fixed=first)
    t.check_conv_output_size(conv_output_size, cases)

@test_case(points=None, hidden=False)
def test_conv_output_size_errors_public(conv_output_size):
    from shared.testing import conv_output_sizes as t
    refused = [(dict(n=5, kernel=3, stride=0), ('stride',)), (dict(n=5, kernel=3, padding=-1), ('padding',)), (dict(n=5, kernel=3, dilation=0), ('dilation',)), (dict(n=5, kernel=0), ('kernel',)), (dict(n=5, kernel=6), ('kernel',)), (dict(n=4, kernel=4, padding=1, dilation=2), ('kernel', 'dilation'))]
    t.check_conv_errors(conv_output_size, refused, fits=[dict(n=4, kernel=8, padding=2)])

@test_case(points=None, hidden=False)
def test_ceil_counterexample_public(ceil_counterexample):
    from shared.testing import conv_output_sizes as t
    t.check_ceil_counterexample(ceil_counterexample)

