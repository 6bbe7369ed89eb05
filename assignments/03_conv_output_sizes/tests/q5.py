from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 3

@test_case(points=None, hidden=False)
def test_receptive_field_public(receptive_field):
    from torch import nn
    from shared.testing import conv_output_sizes as t
    lecture = [[nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3), nn.ReLU(), nn.Conv2d(1, 1, 3)], [nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2)], [nn.Conv2d(1, 1, 3, dilation=1), nn.Conv2d(1, 1, 3, dilation=2), nn.Conv2d(1, 1, 3, dilation=4)], [nn.Conv2d(1, 1, 7, stride=2, padding=3), nn.MaxPool2d(3, stride=2, padding=1), nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, stride=2)]]
    stacks = t.receptive_stacks(21, 12, depth=(2, 6), kernel=(1, 6), stride=(1, 3), dilation=(1, 3), p_max=0.3)
    t.check_receptive_field(receptive_field, lecture + stacks)

