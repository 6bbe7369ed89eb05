from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 3

@test_case(points=None, hidden=False)
def test_positional_encoding_public(positional_encoding):
    from shared.testing.transformer import check_positional_encoding
    check_positional_encoding(positional_encoding, 10, 8)
    check_positional_encoding(positional_encoding, 50, 32)

