from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 4

@test_case(points=None, hidden=False)
def test_trace_lecture_public(trace_shapes, count_stack_parameters):
    from shared.testing import conv_output_sizes as t
    t.check_lecture_networks(trace_shapes, count_stack_parameters)

@test_case(points=None, hidden=False)
def test_trace_random_public(trace_shapes, count_stack_parameters):
    from shared.testing import conv_output_sizes as t
    layers = dict(channels=(1, 6), kernel=(1, 5), stride=(1, 3), padding=(0, 3), dilation=(1, 3))
    chances = dict(p_bias=0.7, p_default_stride=0.5, p_ceil=0.5, p_head=0.5)
    kinds = ['conv', 'conv', 'max', 'avg', 'relu', 'convT']
    stacks = t.random_stacks(11, 30, kinds=kinds, input_channels=(1, 4), size=(4, 30), depth=(2, 7), **layers, **chances)
    t.check_trace(trace_shapes, stacks)
    t.check_count(count_stack_parameters, [stack.layers for stack in stacks])

@test_case(points=None, hidden=False)
def test_trace_errors_public(trace_shapes):
    from torch import nn
    from shared.testing import conv_output_sizes as t
    misfits = [([nn.Conv2d(3, 8, 3)], (1, 28, 28), 'the Conv2d expects 3 channels but gets 1'), ([nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(100, 10)], (1, 8, 8), 'the Linear expects 100 features but gets 4*6*6 = 144'), ([nn.Conv2d(1, 4, 5)], (1, 3, 3), 'the 5x5 kernel does not fit a 3x3 input')]
    t.check_trace_refuses(trace_shapes, misfits)

