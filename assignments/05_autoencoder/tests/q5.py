from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 4

@test_case(points=None, hidden=False)
def test_pca_public(pca_fit, pca_reconstruct):
    from shared.testing.autoencoder import check_pca, low_rank_data
    data = low_rank_data(n=40, d=12, singular_values=(6.0, 4.0, 2.5, 1.0), seed=0)
    for k in (2, 4):
        check_pca(pca_fit, pca_reconstruct, data, k)

