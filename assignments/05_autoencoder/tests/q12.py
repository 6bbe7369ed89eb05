from otter.test_files import test_case

OK_FORMAT = False

name = "q12"
points = 2

@test_case(points=None, hidden=False)
def test_conv_autoencoder_public(ConvAutoencoder):
    from shared.testing.autoencoder import check_conv_autoencoder
    check_conv_autoencoder(ConvAutoencoder, 16, 2, seed=0)
    check_conv_autoencoder(ConvAutoencoder, 4, 3, seed=1)

