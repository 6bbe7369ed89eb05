from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 3

@test_case(points=None, hidden=False)
def test_add_noise_public(add_noise):
    from shared.testing.autoencoder import check_noise
    check_noise(add_noise, 'gaussian', 0.1, shape=(200, 100), seed=0)
    check_noise(add_noise, 'mask', 0.3, shape=(200, 100), seed=1)

