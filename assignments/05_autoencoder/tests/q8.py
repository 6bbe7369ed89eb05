from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=None, hidden=False)
def test_denoising_public(noisy_error, denoised_error, X_test, X_test_noisy, Encoder, Decoder, Autoencoder, lecture_params, compression_ratio, reconstruction_loss, train_autoencoder, reconstruction_error, add_noise):
    from shared.testing.autoencoder import check_denoising, check_noisy_error, passes_upstream
    check_noisy_error(noisy_error, X_test_noisy, X_test)
    if passes_upstream(q1=(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio), q2=reconstruction_loss, q3=(train_autoencoder, reconstruction_error), q7=add_noise):
        check_denoising(noisy_error, denoised_error, 'the test split')

