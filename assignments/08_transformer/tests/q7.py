from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 5

@test_case(points=None, hidden=False)
def test_translator_public(env, Translator, translation_loss, greedy_decode, Transformer, causal_mask, positional_encoding):
    from shared.testing.transformer import check_greedy_decode, check_translation_loss, check_translator_properties
    check_translator_properties(Translator, Transformer, causal_mask, positional_encoding, seed=0, env=env)
    check_translation_loss(translation_loss, batch=4, length=5, vocab=7, seed=1)
    check_greedy_decode(greedy_decode, batch=3, vocab=6, max_len=8, seed=2)

