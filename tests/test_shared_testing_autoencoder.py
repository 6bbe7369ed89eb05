"""shared.testing.autoencoder: each check accepts valid styles and names the mistake it finds."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.testing import autoencoder as t
from tests.support import load_grader_only

oracles = load_grader_only("05_autoencoder", "oracles")

# --------------------------------------------------------------------------- reference solutions


class Encoder(nn.Module):
    def __init__(self, in_dim=784, hidden=128, latent=32, *, relu_code=False):
        super().__init__()
        layers = [nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, latent)]
        self.net = nn.Sequential(*layers, *([nn.ReLU()] if relu_code else []))

    def forward(self, x):
        return self.net(x)


class Decoder(nn.Module):
    def __init__(self, latent=32, hidden=128, out_dim=784, *, sigmoids=1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(latent, hidden),
            nn.ReLU(),
            nn.Linear(hidden, out_dim),
            *[nn.Sigmoid()] * sigmoids,
        )

    def forward(self, z):
        return self.net(z)


class FunctionalDecoder(Decoder):
    """Another valid style: named layers, F.relu and torch.sigmoid."""

    def __init__(self, latent=32, hidden=128, out_dim=784):
        nn.Module.__init__(self)
        self.out = nn.Linear(hidden, out_dim)
        self.inner = nn.Linear(latent, hidden)

    def forward(self, z):
        return torch.sigmoid(self.out(F.relu(self.inner(z))))


def make_autoencoder(encoder=Encoder, decoder=Decoder):
    class Autoencoder(nn.Module):
        def __init__(self, in_dim=784, hidden=128, latent=32):
            super().__init__()
            self.encoder = encoder(in_dim, hidden, latent)
            self.decoder = decoder(latent, hidden, in_dim)

        def forward(self, x):
            return self.decoder(self.encoder(x))

    return Autoencoder


def reconstruction_loss(x_hat, x):
    return ((x_hat - x) ** 2).flatten(1).sum(1).mean()


def train_autoencoder(
    model,
    loader,
    optimizer,
    loss_fn,
    *,
    epochs=1,
    device="cpu",
    corrupt=None,
    progress=False,
    zero_grad=True,
    noisy_target=False,
    use_labels=False,
    train_mode=True,
    move=True,
    view_first=False,
):
    if train_mode:
        model.train()
    history = []
    for _ in range(epochs):
        total, seen = 0.0, 0
        for x, y in loader:
            if view_first:  # a view of the batch (its data), moved: as good as moving x itself
                x = x.view(len(x), -1)
            if move:
                x = x.to(device)
            inputs = corrupt(x) if corrupt is not None else x
            if zero_grad:
                optimizer.zero_grad()
            target = inputs if noisy_target else x
            loss = loss_fn(model(inputs), target) + (y.float().mean() * 0 if use_labels else 0)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(x)
            seen += len(x)
        history.append(total / seen)
    return history


def reconstruction_error(
    model, X, *, device="cpu", batch_size=256, eval_mode=True, move=True, reduce="rows"
):
    model.train(not eval_mode)
    with torch.no_grad():
        batches = [X[i : i + batch_size] for i in range(0, len(X), batch_size)]
        batches = [x.to(device) for x in batches] if move else batches
        sums = [((model(x) - x) ** 2).sum() for x in batches]
        if reduce == "batch_means":
            return sum(s.item() / len(x) for s, x in zip(sums, batches, strict=True)) / len(sums)
        total = sum(sums) / len(X)
        return total if reduce == "tensor" else total.item()


def loader_error(model, X, *, device="cpu", batch_size=256):
    """Another valid style: X moved whole, then a DataLoader over it (batches of new storage)."""
    from torch.utils.data import DataLoader

    model.eval()
    total = 0.0
    with torch.no_grad():
        for x in DataLoader(X, batch_size=batch_size):
            x = x.to(device)
            total += ((model(x) - x) ** 2).sum(dim=1).sum().item()
    return total / len(X)


def pca_fit(X, k, *, centre=True, use_u=False):
    mean = X.mean(0)
    U, _, Vh = torch.linalg.svd(X - mean if centre else X, full_matrices=False)
    return mean, (U[:, :k].T if use_u else Vh[:k])


def pca_reconstruct(X, mean, components):
    return mean + (X - mean) @ components.T @ components


def add_noise(x, kind, level, generator=None, *, global_rng=False, clip=True):
    if kind == "gaussian":
        noise = (
            torch.randn_like(x)
            if global_rng
            else torch.randn(x.shape, generator=generator, dtype=x.dtype)
        )
        out = x + level * noise
        return out.clamp(0, 1) if clip else out
    if kind == "mask":
        return x * (torch.rand(x.shape, generator=generator) >= level)
    raise ValueError(kind)


def roc_auc(scores, labels, *, inverted=False, ties=0.5):
    s, lab = torch.as_tensor(scores, dtype=torch.float64), torch.as_tensor(labels).bool()
    p, n = s[lab], s[~lab]
    higher = (p[:, None] < n[None, :]) if inverted else (p[:, None] > n[None, :])
    return (higher.double() + ties * (p[:, None] == n[None, :]).double()).mean().item()


def anomaly_scores(model, X, *, device="cpu", move=True):
    model.eval()
    with torch.no_grad():
        X = X.to(device) if move else X
        return ((model(X) - X) ** 2).sum(1).cpu()


def reparameterize(mu, log_var, generator=None, *, mistake=None):
    std = {None: torch.exp(0.5 * log_var), "log_var": log_var, "var": torch.exp(log_var)}[mistake]
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + std * eps


def kl_divergence(mu, log_var, *, sign=-0.5, reduce="mean"):
    per_row = sign * (1 + log_var - mu**2 - log_var.exp()).sum(1)
    return getattr(per_row, reduce)()


def vae_loss(x_hat, x, mu, log_var):
    return reconstruction_loss(x_hat, x) + kl_divergence(mu, log_var)


class VAE(nn.Module):
    def __init__(self, in_dim=784, hidden=128, latent=2):
        super().__init__()
        self.fc = nn.Linear(in_dim, hidden)
        self.heads = nn.Linear(hidden, 2 * latent)  # one head, split: a valid style
        self.decoder = Decoder(latent, hidden, in_dim)

    def forward(self, x, generator=None):
        mu, log_var = self.heads(F.relu(self.fc(x))).chunk(2, dim=1)
        return self.decoder(reparameterize(mu, log_var, generator)), mu, log_var


class _ChannelsLast(nn.Module):
    """A mistake: (N, 784) read as (28, 28, N) images, so every image mixes all the rows."""

    def forward(self, x):
        return x.reshape(28, 28, -1).permute(2, 0, 1).unsqueeze(1)


def make_conv(output_padding=1, *, relu_code=False, mixed=False):
    class ConvAutoencoder(nn.Module):
        def __init__(self, c1=16, c2=2):
            super().__init__()
            self.net = nn.Sequential(
                _ChannelsLast() if mixed else nn.Unflatten(1, (1, 28, 28)),
                nn.Conv2d(1, c1, 3, 2, 1),
                nn.ReLU(),
                nn.Conv2d(c1, c2, 3, 2, 1),
                *([nn.ReLU()] if relu_code else []),
                nn.ConvTranspose2d(c2, c1, 3, 2, 1, output_padding),
                nn.ReLU(),
                nn.ConvTranspose2d(c1, 1, 3, 2, 1, 1),
                nn.Sigmoid(),
                nn.Flatten(),
            )

        def forward(self, x):
            return self.net(x)

    return ConvAutoencoder


def _with(fn, **options):
    def wrapped(*args, **kwargs):
        return fn(*args, **kwargs, **options)

    return wrapped


def _raises(tag, fn, *args, **kwargs):
    with pytest.raises(AssertionError, match=rf"\[hint: {tag}\]"):
        fn(*args, **kwargs)


# --------------------------------------------------------------------------- q1-q3


def test_autoencoder_checks_accept_styles_and_name_each_mistake():
    for decoder in (Decoder, FunctionalDecoder):
        auto = make_autoencoder(decoder=decoder)
        t.check_autoencoder_classes(Encoder, decoder, auto, in_dim=20, hidden=7, latent=3, seed=0)
        t.check_autoencoder_matches(auto, oracles.autoencoder(30, 9, 4), 30, 9, 4, seed=1)
    t.check_lecture_numbers(209_968, 24.5)
    t.check_device_free(
        lambda: make_autoencoder()(40, 8, 3), "Autoencoder(40, 8, 3)", (2, 40), (2, 40)
    )
    sizes = {"in_dim": 20, "hidden": 7, "latent": 3, "seed": 0}
    no_sigmoid = _with(Decoder, sigmoids=0)
    two = _with(Decoder, sigmoids=2)
    relu_code = _with(Encoder, relu_code=True)
    _raises(
        "ae.sigmoid_missing",
        t.check_autoencoder_classes,
        Encoder,
        no_sigmoid,
        make_autoencoder(decoder=no_sigmoid),
        **sizes,
    )
    _raises(
        "ae.sigmoid_twice",
        t.check_autoencoder_classes,
        Encoder,
        two,
        make_autoencoder(decoder=two),
        **sizes,
    )
    _raises(
        "ae.bottleneck_relu",
        t.check_autoencoder_classes,
        relu_code,
        Decoder,
        make_autoencoder(encoder=relu_code),
        **sizes,
    )
    _raises("ae.lecture_count", t.check_lecture_numbers, 209_968 - 784, 24.5)


class _Empty(nn.Module):
    """The stub: __init__ builds nothing."""

    def __init__(self, *args, **kwargs):
        super().__init__()


class _NoBias(nn.Module):
    def __init__(self, in_dim=784, hidden=128, latent=32):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_dim, hidden, bias=False), nn.ReLU(), nn.Linear(hidden, latent)
        )

    def forward(self, x):
        return self.layers(x)


class _Wide(_NoBias):
    def __init__(self, in_dim=784, hidden=128, latent=32):
        super().__init__(in_dim, hidden + 1, latent)


def test_count_hint_only_for_its_signature():
    sizes = {"in_dim": 20, "hidden": 7, "latent": 3, "seed": 0}
    with pytest.raises(AssertionError, match="not answered yet") as stub:
        t.check_autoencoder_classes(_Empty, _Empty, _Empty, **sizes)
    assert "keep every bias" not in str(stub.value)
    _raises("ae.count", t.check_autoencoder_classes, _NoBias, Decoder, make_autoencoder(), **sizes)
    with pytest.raises(AssertionError, match=r"\[hint: ae.count_rule\]") as wide:
        t.check_autoencoder_classes(_Wide, Decoder, make_autoencoder(), **sizes)
    assert "keep every bias" not in str(wide.value)
    _raises("ae.ratio", t.check_lecture_numbers, 209_968, 32 / 784)


def test_loss_check_names_the_reduction():
    x_hat, x = torch.ones(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)
    t.check_loss_value(reconstruction_loss, x_hat, x, 3.0)
    t.check_loss_value(lambda a, b: F.mse_loss(a, b, reduction="sum") / len(a), x_hat, x, 3.0)
    _raises("ae.loss_mean_pixels", t.check_loss_value, F.mse_loss, x_hat, x, 3.0)
    _raises(
        "ae.loss_sum_batch", t.check_loss_value, lambda a, b: ((a - b) ** 2).sum(), x_hat, x, 3.0
    )
    images, zeros = torch.full((3, 2, 2, 2), 0.5), torch.zeros(3, 2, 2, 2)
    one_axis = lambda a, b: ((a - b) ** 2).sum(dim=1).mean()  # noqa: E731
    _raises("ae.loss_one_axis", t.check_loss_value, one_axis, images, zeros, 2.0)
    _raises("ae.loss_mean_pixels", t.check_loss_value, F.mse_loss, images, zeros, 2.0)
    # where one axis has size 1 the two mistakes agree: no specific hint, the rule alone
    single = torch.full((3, 1, 2, 2), 0.5), torch.zeros(3, 1, 2, 2)
    with pytest.raises(AssertionError) as both:
        t.check_loss_value(one_axis, *single, 1.0)
    assert "[hint: ae.loss_formula]" in str(both.value)
    assert "averaged over the pixels" not in str(both.value)
    halved = lambda a, b: reconstruction_loss(a, b) / 2  # noqa: E731
    with pytest.raises(AssertionError) as other:
        t.check_loss_value(halved, images, zeros, 2.0)
    assert "ae.loss_mean_pixels" not in str(other.value)
    assert "ae.loss_one_axis" not in str(other.value)


@pytest.mark.parametrize(
    ("options", "corrupt", "tag"),
    [
        ({"zero_grad": False}, None, "ae.zero_grad"),
        ({"noisy_target": True}, "scale", "ae.denoise_target"),
        ({"use_labels": True}, None, "ae.labels_used"),
    ],
)
def test_train_check_accepts_the_loop_and_names_each_mistake(options, corrupt, tag):
    case = {"seed": 1, "n": 9, "dim": 5, "batch_size": 3, "epochs": 2, "corrupt": corrupt}
    t.check_train_autoencoder(train_autoencoder, **case)
    _raises(tag, t.check_train_autoencoder, _with(train_autoencoder, **options), **case)


def test_train_on_device_and_reconstruction_error():
    t.check_train_on_device(train_autoencoder, seed=0)
    t.check_reconstruction_error(reconstruction_error, n=7, dim=4, batch_size=3, seed=0)
    _raises(
        "ae.eval_mode",
        t.check_reconstruction_error,
        _with(reconstruction_error, eval_mode=False),
        n=7,
        dim=4,
        batch_size=3,
        seed=0,
    )


def test_passes_upstream_names_a_broken_question():
    auto = make_autoencoder()
    assert t.passes_upstream(
        q1=(Encoder, Decoder, auto, 209_968, 24.5),
        q2=reconstruction_loss,
        q3=(train_autoencoder, reconstruction_error),
        q5=(pca_fit, pca_reconstruct),
    )
    assert not t.passes_upstream(q2=F.mse_loss)
    assert not t.passes_upstream(
        q9=(anomaly_scores, _with(roc_auc, inverted=True), oracles.threshold_for_fpr)
    )


# --------------------------------------------------------------------------- q4-q8


def test_pca_checks_against_known_data_and_numpy():
    data = t.low_rank_data(n=25, d=30, singular_values=(9.0, 5.0, 3.0, 2.0), seed=11)
    for k in (1, 4):
        t.check_pca(pca_fit, pca_reconstruct, data, k)
    X = torch.rand(50, 9, generator=torch.Generator().manual_seed(3), dtype=torch.float64) + 2
    t.check_pca_against(pca_fit, pca_reconstruct, X, 4, oracles.pca(X, 4))
    _raises("ae.pca_centring", t.check_pca, _with(pca_fit, centre=False), pca_reconstruct, data, 2)
    _raises("ae.pca_u_v", t.check_pca, _with(pca_fit, use_u=True), pca_reconstruct, data, 2)

    def eigh_fit(X, k, *, flip):
        mean = X.mean(dim=0)
        _, vectors = torch.linalg.eigh((X - mean).T @ (X - mean))
        top = vectors[:, -k:].T
        return mean, top.flip(0) if flip else top

    t.check_pca(_with(eigh_fit, flip=True), pca_reconstruct, data, 2)
    _raises("ae.pca_order", t.check_pca, _with(eigh_fit, flip=False), pca_reconstruct, data, 2)

    def smallest(X, k):  # eigh's first columns: the directions of least variance
        mean = X.mean(dim=0)
        return mean, torch.linalg.eigh((X - mean).T @ (X - mean))[1][:, :k].T

    with pytest.raises(AssertionError, match=r"\[hint: ae.pca\]") as wrong:
        t.check_pca(smallest, pca_reconstruct, data, 2)
    assert "ae.pca_centring" not in str(wrong.value)


def test_claims_and_linear_autoencoder():
    t.check_linear_autoencoder(
        lambda d, k: nn.Sequential(nn.Linear(d, k), nn.Linear(k, d)), 10, 3, seed=0
    )
    _raises(
        "ae.linear_activation",
        t.check_linear_autoencoder,
        lambda d, k: nn.Sequential(nn.Linear(d, k), nn.ReLU(), nn.Linear(k, d)),
        10,
        3,
        seed=0,
    )
    t.check_pca_claims(16.4, 17.9, 16.7, 14.0, "test")
    _raises("ae.linear_claim", t.check_pca_claims, 16.4, 30.0, 16.7, 14.0, "test")
    _raises("ae.nonlinear_claim", t.check_pca_claims, 16.4, 17.9, 16.7, 17.0, "test")
    with pytest.raises(AssertionError, match="Eckart-Young"):
        t.check_pca_claims(16.4, 15.0, 16.7, 14.0, "test")
    t.check_lecture_errors(11.5, 12.2, 37.7, "test")
    _raises("ae.lecture_claim", t.check_lecture_errors, 11.5, 25.0, 37.7, "test")
    t.check_denoising(49.0, 16.0, "test")
    _raises("ae.denoise_claim", t.check_denoising, 49.0, 40.0, "test")
    t.check_anomaly_claims(0.98, 0.03, "test")
    _raises("ae.anomaly_claim", t.check_anomaly_claims, 0.7, 0.03, "test")
    t.check_conv_claim(899, 209_968, 5.0, 12.0, "test")
    _raises("ae.conv_claim", t.check_conv_claim, 899, 209_968, 15.0, 12.0, "test")
    with pytest.raises(AssertionError, match="not answered yet"):
        t.check_given(test_error=...)


def test_noise_check_accepts_other_samplers_and_names_each_mistake():
    def in_place(x, kind, level, generator=None):
        if kind == "gaussian":
            return (x + torch.empty_like(x).normal_(0, level, generator=generator)).clamp(0, 1)
        if kind == "mask":
            return torch.where(
                torch.bernoulli(torch.full_like(x, level), generator=generator).bool(), 0.0, x
            )
        raise ValueError(kind)

    for fn in (add_noise, in_place):
        t.check_noise(fn, "gaussian", 0.1, shape=(200, 100), seed=0)
        t.check_noise(fn, "mask", 0.3, shape=(200, 100), seed=1)
    _raises(
        "ae.noise_generator",
        t.check_noise,
        _with(add_noise, global_rng=True),
        "gaussian",
        0.1,
        shape=(50, 40),
        seed=0,
    )
    _raises(
        "ae.noise_clip",
        t.check_noise,
        _with(add_noise, clip=False),
        "gaussian",
        0.1,
        shape=(200, 100),
        seed=0,
    )


# --------------------------------------------------------------------------- q9-q13


def test_the_pairwise_auc_is_sklearns():
    """The tests' AUC oracle (no scikit-learn in the grading processes) gives
    roc_auc_score's value on every size, share of anomalies and number of ties tried."""
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    for n, levels in [(2, 2), (8, 2), (25, 3), (97, 7), (300, 1000), (541, 50)]:
        scores = rng.integers(0, levels, size=n).astype(float) * rng.choice([1.0, 0.37])
        labels = rng.permutation(np.arange(n) < max(1, n // 3))
        expected = roc_auc_score(labels.astype(int), scores)
        assert abs(t.pairwise_auc(labels, scores) - expected) <= 1e-12
        assert abs(t.pairwise_auc(labels.astype(int), torch.from_numpy(scores)) - expected) <= 1e-12


def test_anomaly_tools():
    t.check_roc_auc(roc_auc, n=40, levels=5, seed=0)
    t.check_roc_auc(roc_auc, n=25, levels=3, seed=1, as_numpy=True)
    _raises(
        "ae.auc_inverted", t.check_roc_auc, _with(roc_auc, inverted=True), n=40, levels=5, seed=0
    )
    _raises("ae.auc_ties", t.check_roc_auc, _with(roc_auc, ties=0.0), n=40, levels=5, seed=0)
    normal = [0.5, 2.0, 2.0, 2.0, 7.0, 1.0]
    t.check_threshold(oracles.threshold_for_fpr, normal, 0.5, 2.0)
    with pytest.raises(AssertionError, match=r"\[hint: ae.threshold\]"):
        t.check_threshold(
            lambda s, f: float(np.quantile(np.asarray(s), 1 - f)),
            [3.0, 1.0, 2.0, 5.0, 4.0, 6.0, 0.0],
            0.3,
            5.0,
        )
    t.check_anomaly_scores(anomaly_scores, n=6, dim=5, seed=0)
    scores, truth = torch.tensor([1.0, 5.0, 2.0, 7.0]), torch.tensor([False, True, False, True])
    t.check_anomaly_numbers(3.0, scores, truth, 1.0, 0.0, 1.0, truth)
    with pytest.raises(AssertionError, match="anomaly_auc"):
        t.check_anomaly_numbers(3.0, scores, truth, 0.0, 0.0, 1.0, truth)
    t.check_anomaly_numbers(3.0, scores, truth, 0.0, 0.0, 1.0, truth, check_auc=False)


def test_vae_checks_accept_one_head_and_name_each_mistake():
    t.check_reparameterize(reparameterize, shape=(3, 2), seed=0)
    t.check_kl(kl_divergence, n=5, d=3, seed=0)
    t.check_vae_loss(vae_loss, n=4, dim=6, d=2, seed=0)
    t.check_vae_module(VAE, in_dim=12, hidden=5, latent=2, seed=0)
    _raises(
        "ae.std_log_var",
        t.check_reparameterize,
        _with(reparameterize, mistake="log_var"),
        shape=(3, 2),
        seed=0,
    )
    _raises(
        "ae.std_variance",
        t.check_reparameterize,
        _with(reparameterize, mistake="var"),
        shape=(3, 2),
        seed=0,
    )

    def detached(mu, lv, g=None):
        return torch.distributions.Normal(mu, torch.exp(0.5 * lv)).sample()

    _raises("ae.no_reparam", t.check_reparameterize, detached, shape=(3, 2), seed=0)
    _raises("ae.kl_sign", t.check_kl, _with(kl_divergence, sign=0.5), n=5, d=3, seed=0)
    _raises("ae.kl_batch_sum", t.check_kl, _with(kl_divergence, reduce="sum"), n=5, d=3, seed=0)


def test_conv_autoencoder_check():
    t.check_conv_autoencoder(make_conv(), 16, 2, seed=0)
    t.check_conv_autoencoder(make_conv(), 1, 1, seed=3)
    _raises(
        "ae.output_padding", t.check_conv_autoencoder, make_conv(output_padding=0), 16, 2, seed=0
    )
    conv, dense = make_conv()(), make_autoencoder()()
    t.check_counts(sum(p.numel() for p in conv.parameters()), 209_968, conv, dense)


def test_an_empty_conv_autoencoder_is_not_answered_yet():
    with pytest.raises(AssertionError, match="0 parameters instead of 899.*not answered yet"):
        t.check_conv_autoencoder(lambda c1, c2: nn.Module(), 16, 2, seed=0)


# --------------------------------------------------------------------------- issue 25: rules


class _DetachedAutoencoder(nn.Module):
    def __init__(self, in_dim=784, hidden=128, latent=32):
        super().__init__()
        self.encoder, self.decoder = (
            Encoder(in_dim, hidden, latent),
            Decoder(latent, hidden, in_dim),
        )

    def forward(self, x):
        return self.decoder(self.encoder(x).detach())


class _BatchCentredEncoder(Encoder):
    """Rows influence each other: the input is centred over the batch."""

    def forward(self, x):
        return super().forward(x - x.mean(dim=0))


def test_autoencoder_rows_and_gradients():
    sizes = {"in_dim": 20, "hidden": 7, "latent": 3, "seed": 0}
    _raises(
        "ae.detached", t.check_autoencoder_classes, Encoder, Decoder, _DetachedAutoencoder, **sizes
    )
    _raises(
        "ae.rows_mixed",
        t.check_autoencoder_classes,
        _BatchCentredEncoder,
        Decoder,
        make_autoencoder(encoder=_BatchCentredEncoder),
        **sizes,
    )


class _ReluBeforeSigmoid(Decoder):
    def forward(self, z):
        return torch.sigmoid(F.relu(self.net[:3](z)))


def test_relu_before_the_sigmoid_is_named():
    sizes = {"in_dim": 20, "hidden": 7, "latent": 3, "seed": 0}
    _raises(
        "ae.relu_before_sigmoid",
        t.check_autoencoder_classes,
        Encoder,
        _ReluBeforeSigmoid,
        make_autoencoder(decoder=_ReluBeforeSigmoid),
        **sizes,
    )


def test_loop_moves_each_batch_as_itself_or_a_view():
    case = {"seed": 1, "n": 9, "dim": 5, "batch_size": 3, "epochs": 2, "corrupt": "scale"}
    t.check_train_autoencoder(_with(train_autoencoder, view_first=True), **case)
    never_moved = _with(train_autoencoder, move=False)
    _raises("ae.batch_device", t.check_train_autoencoder, never_moved, **case)
    viewed_not_moved = _with(train_autoencoder, view_first=True, move=False)
    _raises("ae.batch_device", t.check_train_autoencoder, viewed_not_moved, **case)


def test_loop_is_handed_a_model_in_evaluation_mode():
    case = {"seed": 1, "n": 9, "dim": 5, "batch_size": 3, "epochs": 1, "corrupt": None}
    _raises(
        "ae.train_mode",
        t.check_train_autoencoder,
        _with(train_autoencoder, train_mode=False),
        **case,
    )


def test_reconstruction_error_rules():
    case = {"n": 7, "dim": 4, "batch_size": 3, "seed": 0}
    t.check_reconstruction_error(loader_error, **case)
    t.check_anomaly_scores(anomaly_scores, n=6, dim=5, seed=0)
    _raises(
        "ae.eval_device",
        t.check_reconstruction_error,
        _with(reconstruction_error, move=False),
        **case,
    )
    _raises(
        "ae.error_batch_mean",
        t.check_reconstruction_error,
        _with(reconstruction_error, reduce="batch_means"),
        **case,
    )
    _raises(
        "ae.float_type",
        t.check_reconstruction_error,
        _with(reconstruction_error, reduce="tensor"),
        **case,
    )
    _raises(
        "ae.eval_device",
        t.check_anomaly_scores,
        _with(anomaly_scores, move=False),
        n=6,
        dim=5,
        seed=0,
    )
    tensor_auc = lambda s, lab: torch.tensor(roc_auc(s, lab))  # noqa: E731
    _raises("ae.float_type", t.check_roc_auc, tensor_auc, n=40, levels=5, seed=0)


def as_tensor_scores(model, X, *, device="cpu"):
    """Another valid style: the data moved with torch.as_tensor(X, device=device)."""
    model.eval()
    with torch.inference_mode():
        X = torch.as_tensor(X, device=device)
        return torch.linalg.vector_norm(model(X) - X, dim=1).square().double().cpu()


def moved_whole_then_loader_error(model, X, *, device="cpu", batch_size=256, move=True):
    """Another valid style: X moved whole, then batches a DataLoader stacks from it."""
    from torch.utils.data import DataLoader, TensorDataset

    model.eval()
    X = X.to(device) if move else X
    total = 0.0
    with torch.no_grad():
        for (x,) in DataLoader(TensorDataset(X), batch_size=batch_size):
            total += ((model(x) - x) ** 2).sum().item()
    return total / len(X)


def test_data_moved_whole_as_a_view_or_by_as_tensor_counts_as_moved():
    t.check_anomaly_scores(as_tensor_scores, n=6, dim=5, seed=0)
    case = {"n": 7, "dim": 4, "batch_size": 3, "seed": 0}
    t.check_reconstruction_error(moved_whole_then_loader_error, **case)
    never_moved = _with(moved_whole_then_loader_error, move=False)
    _raises("ae.eval_device", t.check_reconstruction_error, never_moved, **case)
    case = {"seed": 0, "n": 10, "dim": 6, "batch_size": 4, "epochs": 2, "corrupt": None}

    def as_tensor_loop(model, loader, optimizer, loss_fn, **kwargs):
        class Moved:  # yields each batch through torch.as_tensor(x, device=...)
            dataset = loader.dataset

            def __iter__(self):
                for x, y in loader:
                    yield torch.as_tensor(x.view(len(x), -1), device=kwargs["device"]), y

        return train_autoencoder(model, Moved(), optimizer, loss_fn, **kwargs, move=False)

    t.check_train_autoencoder(as_tensor_loop, **case)


def test_conv_rows_and_layers():
    for c1, c2 in ((16, 2), (7, 5)):
        t.check_conv_matches(make_conv(), oracles.conv_autoencoder, c1, c2, seed=0)
    _raises("ae.rows_mixed", t.check_conv_autoencoder, make_conv(mixed=True), 16, 2, seed=0)
    _raises(
        "ae.conv_bottleneck_relu",
        t.check_conv_matches,
        make_conv(relu_code=True),
        oracles.conv_autoencoder,
        16,
        2,
        seed=0,
    )


def test_reported_numbers_are_recomputed():
    t.check_reported_error(12.0, 12.0000001, "conv_test_error")
    _raises("ae.reported", t.check_reported_error, 5.0, 12.0, "conv_test_error")
    scores = torch.tensor([1.0, 5.0, 2.0])
    t.check_reported_scores(scores.float(), scores.double(), "test_scores")
    _raises("ae.reported", t.check_reported_scores, scores + 1, scores.double(), "test_scores")
    t.check_threshold_source(20.0, 20.0, {"the test digits": 19.0}, 0.05)
    with pytest.raises(
        AssertionError, match=r"picked on the test digits.*\[hint: ae.threshold_split\]"
    ):
        t.check_threshold_source(19.0, 20.0, {"the test digits": 19.0}, 0.05)


class _ReluHeadVAE(VAE):
    def forward(self, x, generator=None):
        mu, log_var = self.heads(F.relu(self.fc(x))).chunk(2, dim=1)
        mu = F.relu(mu)
        return self.decoder(reparameterize(mu, log_var, generator)), mu, log_var


class _LinearBodyVAE(VAE):
    def forward(self, x, generator=None):
        mu, log_var = self.heads(self.fc(x)).chunk(2, dim=1)
        return self.decoder(reparameterize(mu, log_var, generator)), mu, log_var


def test_vae_layers():
    for sizes in (
        {"in_dim": 15, "hidden": 7, "latent": 3},
        {"in_dim": 784, "hidden": 128, "latent": 2},
    ):
        t.check_vae_layers(VAE, **sizes, seed=1)
    for wrong in (_ReluHeadVAE, _LinearBodyVAE):
        _raises("ae.vae_layers", t.check_vae_layers, wrong, in_dim=15, hidden=7, latent=3, seed=1)


def test_encoder_relu_noise_and_pca_in_place():
    class AffineEncoder(Encoder):
        def forward(self, x):
            return self.net[2](self.net[0](x))

    sizes = {"in_dim": 20, "hidden": 7, "latent": 3, "seed": 0}
    _raises(
        "ae.encoder_relu",
        t.check_autoencoder_classes,
        AffineEncoder,
        Decoder,
        make_autoencoder(encoder=AffineEncoder),
        **sizes,
    )

    def in_place_noise(x, kind, level, generator=None):
        if kind == "gaussian":
            noise = torch.randn(x.shape, generator=generator, dtype=x.dtype)
            return x.add_(level * noise).clamp_(0, 1)
        return add_noise(x, kind, level, generator)

    _raises(
        "ae.noise_in_place", t.check_noise, in_place_noise, "gaussian", 0.1, shape=(50, 40), seed=0
    )
    data = t.low_rank_data(n=25, d=30, singular_values=(9.0, 5.0, 3.0, 2.0), seed=11)

    def centred_in_place(X, k):
        mean = X.mean(dim=0)
        X -= mean
        return mean, torch.linalg.svd(X, full_matrices=False).Vh[:k]

    def in_float64(X, k):
        return pca_fit(X.double(), k)

    _raises("ae.pca_in_place", t.check_pca, centred_in_place, pca_reconstruct, data, 2)
    _raises("ae.pca_dtype", t.check_pca, in_float64, pca_reconstruct, data, 2)
