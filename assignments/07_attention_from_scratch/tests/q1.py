from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_softmax_public(masked_softmax):
    from shared.testing.attention_from_scratch import check_masked_softmax
    check_masked_softmax(masked_softmax, shape=(3, 5), dim=-1, seed=0)
    check_masked_softmax(masked_softmax, shape=(2, 4, 6), dim=-1, masked=True, seed=1)
    check_masked_softmax(masked_softmax, shape=(4, 3), dim=0, masked=True, seed=2)

