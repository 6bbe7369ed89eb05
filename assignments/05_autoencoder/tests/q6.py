from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 3

@test_case(points=None, hidden=False)
def test_autoencoder_vs_pca_public(make_linear_autoencoder, pca_train_error, linear_train_error, pca_test_error, nonlinear_test_error, Encoder, Decoder, Autoencoder, lecture_params, compression_ratio, reconstruction_loss, train_autoencoder, reconstruction_error, pca_fit, pca_reconstruct):
    from shared.testing.autoencoder import check_linear_autoencoder, check_pca_claims, passes_upstream
    check_linear_autoencoder(make_linear_autoencoder, 784, 4, seed=0)
    check_linear_autoencoder(make_linear_autoencoder, 10, 3, seed=1)
    if passes_upstream(q1=(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio), q2=reconstruction_loss, q3=(train_autoencoder, reconstruction_error), q5=(pca_fit, pca_reconstruct)):
        check_pca_claims(pca_train_error, linear_train_error, pca_test_error, nonlinear_test_error, 'the test split')

