from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_alignment_public(exact_match, alignment_share, attention_exact, attention_share, plain_exact, masked_softmax, attention_context, Seq2Seq, greedy_decode):
    from shared.testing.attention_from_scratch import check_alignment_claim, check_alignment_share, check_exact_match, first_failure, upstream_checks
    check_exact_match(exact_match, n=6, T=4, seed=0)
    check_alignment_share(alignment_share, n=3, T=4, S=5, seed=1)
    if first_failure(upstream_checks(masked_softmax, attention_context, Seq2Seq, greedy_decode, seed=0)) is None:
        check_alignment_claim(attention_exact, attention_share, plain_exact, where='the test pairs')

