from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 4

@test_case(points=None, hidden=False)
def test_decoder_public(dot_scores, additive_scores, attention_context, decoder_step):
    from shared.testing.attention_from_scratch import check_additive, check_by_hand, check_context, check_decoder_step, check_dot
    check_by_hand(dot_scores, additive_scores, attention_context)
    check_dot(dot_scores, B=3, L=4, d=5, seed=0)
    check_additive(additive_scores, B=2, L=3, d_s=4, d_h=5, d_a=6, seed=1)
    check_context(attention_context, B=3, L=4, d_h=2, seed=2)
    check_decoder_step(decoder_step, B=3, L=5, d=4, d_y=3, seed=3)
    check_decoder_step(decoder_step, B=2, L=4, d=3, d_y=2, masked=True, seed=4)

