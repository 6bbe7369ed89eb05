from otter.test_files import test_case

OK_FORMAT = False

name = "q13"
points = 2

@test_case(points=None, hidden=False)
def test_conv_claim_public(conv_params, dense_params, conv_test_error, test_error, conv_ae, lecture_ae, Encoder, Decoder, Autoencoder, lecture_params, compression_ratio, reconstruction_loss, train_autoencoder, reconstruction_error, ConvAutoencoder):
    from shared.testing.autoencoder import check_conv_claim, check_counts, passes_upstream
    check_counts(conv_params, dense_params, conv_ae, lecture_ae)
    if passes_upstream(q1=(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio), q2=reconstruction_loss, q3=(train_autoencoder, reconstruction_error), q12=ConvAutoencoder):
        check_conv_claim(conv_params, dense_params, conv_test_error, test_error, 'the test split')

