from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=None, hidden=False)
def test_accuracy_public(test_accuracy, EncoderLayer, DecoderLayer, causal_mask, Transformer, Translator, translation_loss, greedy_decode, positional_encoding):
    from shared.testing.transformer import check_accuracy_claim, check_fraction, judged, parts_pass
    parts_ok = parts_pass(EncoderLayer, DecoderLayer, causal_mask, Transformer, Translator, translation_loss, greedy_decode, positional_encoding)
    if not judged(test_accuracy, parts_ok):
        return
    check_fraction(test_accuracy, 'test_accuracy')
    if parts_ok:
        check_accuracy_claim(test_accuracy, 'the test numbers')

