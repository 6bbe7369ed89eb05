from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_lecture_errors_public(train_error, test_error, mean_image_error, X_train, X_test, Encoder, Decoder, Autoencoder, lecture_params, compression_ratio, reconstruction_loss, train_autoencoder, reconstruction_error):
    from shared.testing.autoencoder import check_lecture_errors, check_mean_image_error, passes_upstream
    check_mean_image_error(mean_image_error, X_train, X_test)
    if passes_upstream(q1=(Encoder, Decoder, Autoencoder, lecture_params, compression_ratio), q2=reconstruction_loss, q3=(train_autoencoder, reconstruction_error)):
        check_lecture_errors(train_error, test_error, mean_image_error, 'the test split')

