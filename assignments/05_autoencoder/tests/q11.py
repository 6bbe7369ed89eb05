from otter.test_files import test_case

OK_FORMAT = False

name = "q11"
points = 6

@test_case(points=None, hidden=False)
def test_vae_public(env, reparameterize, kl_divergence, vae_loss, VAE):
    from shared.testing.autoencoder import check_kl, check_reparameterize, check_vae_loss, check_vae_module
    check_reparameterize(reparameterize, shape=(3, 2), seed=0)
    check_kl(kl_divergence, n=5, d=3, seed=0)
    check_vae_loss(vae_loss, n=4, dim=6, d=2, seed=0, env=env)
    check_vae_module(VAE, in_dim=12, hidden=5, latent=2, seed=0)

