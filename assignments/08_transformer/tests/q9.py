from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 2

@test_case(points=None, hidden=False)
def test_nomask_public(nomask_accuracy, EncoderLayer, DecoderLayer, causal_mask, Transformer, Translator, translation_loss, greedy_decode, positional_encoding):
    from shared.testing.transformer import check_fraction, check_nomask_claim, judged, parts_pass
    parts_ok = parts_pass(EncoderLayer, DecoderLayer, causal_mask, Transformer, Translator, translation_loss, greedy_decode, positional_encoding)
    if not judged(nomask_accuracy, parts_ok):
        return
    check_fraction(nomask_accuracy, 'nomask_accuracy')
    if parts_ok:
        check_nomask_claim(nomask_accuracy, 'the test numbers')

