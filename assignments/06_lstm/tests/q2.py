from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 4

@test_case(points=None, hidden=False)
def test_bptt_public(rnn_bptt):
    from shared.testing.lstm import bptt_case, check_bptt
    check_bptt(rnn_bptt, bptt_case(T=4, d_in=3, d_h=2, seed=0))
    check_bptt(rnn_bptt, bptt_case(T=1, d_in=2, d_h=3, seed=1))

