from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=None, hidden=False)
def test_seq2seq_public(Seq2Seq, greedy_decode):
    from shared.testing.attention_from_scratch import check_greedy, check_seq2seq
    check_seq2seq(Seq2Seq, vocab_size=13, hidden_size=4, B=3, S=5, T=4, seed=0)
    check_greedy(greedy_decode, B=3, S=5, steps=4, vocab_size=13, seed=1)

