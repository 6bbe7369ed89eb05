from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3

@test_case(points=None, hidden=False)
def test_lecture_autoencoder_public(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio):
    from shared.testing.autoencoder import check_autoencoder_classes, check_lecture_numbers
    check_autoencoder_classes(Encoder, Decoder, Autoencoder, in_dim=784, hidden=128, latent=32, seed=0)
    check_autoencoder_classes(Encoder, Decoder, Autoencoder, in_dim=20, hidden=7, latent=3, seed=1)
    check_lecture_numbers(lecture_params, compression_ratio)

