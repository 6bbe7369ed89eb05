from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 5

@test_case(points=None, hidden=False)
def test_train_autoencoder_public(train_autoencoder):
    from shared.testing.autoencoder import check_train_autoencoder
    check_train_autoencoder(train_autoencoder, seed=0, n=10, dim=6, batch_size=4, epochs=2, corrupt=None)
    check_train_autoencoder(train_autoencoder, seed=1, n=9, dim=5, batch_size=3, epochs=1, corrupt='scale')

@test_case(points=None, hidden=False)
def test_reconstruction_error_public(reconstruction_error):
    from shared.testing.autoencoder import check_reconstruction_error
    check_reconstruction_error(reconstruction_error, n=7, dim=4, batch_size=3, seed=0)

