from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 6

@test_case(points=None, hidden=False)
def test_hand_forward_public(hand):
    from shared.testing.backprop_by_hand import HAND_KEYS, check_rules, forward_rules, hand_values
    values = hand_values(hand, HAND_KEYS)
    check_rules(values, forward_rules(values))

