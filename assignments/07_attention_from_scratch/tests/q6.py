from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_alignment_functions_public(exact_match, alignment_share):
    from shared.testing.attention_from_scratch import check_alignment_share, check_exact_match
    check_exact_match(exact_match, n=6, T=4, seed=0)
    check_alignment_share(alignment_share, n=3, T=4, S=5, seed=1)

@test_case(points=None, hidden=False)
def test_alignment_claim_public(env):
    from shared.testing import gate
    from shared.testing import left_as_stub
    from shared.testing.attention_from_scratch import check_alignment_claim, check_trained, trained, upstream_checks
    left_as_stub(env, 'attention_exact', 'attention_share', 'plain_exact')
    skipped = gate(upstream_checks(env, seed=0))
    if skipped is not None:
        return skipped
    _, plain_model, test_short = trained(env, 'attention_model', 'plain_model', 'test_short')
    check_trained(plain_model, test_short, name='plain_model', where='test_short')
    check_alignment_claim(env.get('attention_exact'), env.get('attention_share'), env.get('plain_exact'), where='the test pairs')

