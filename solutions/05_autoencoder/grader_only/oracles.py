"""Reference layers and computations for the hidden tests of 05 (they answer graded questions)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def autoencoder(in_dim: int, hidden: int, latent: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(in_dim, hidden),
        nn.ReLU(),
        nn.Linear(hidden, latent),
        nn.Linear(latent, hidden),
        nn.ReLU(),
        nn.Linear(hidden, in_dim),
        nn.Sigmoid(),
    )


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return ((x_hat.double() - x.double()) ** 2).reshape(len(x), -1).sum(dim=1).mean()


def _outputs(model: nn.Module, X: torch.Tensor) -> torch.Tensor:
    device = next(iter(model.parameters())).device  # iter: also for the referee's proxies
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(X.to(device)).cpu()
    finally:
        model.train(was_training)


def scores(model: nn.Module, X: torch.Tensor, inputs: torch.Tensor | None = None) -> torch.Tensor:
    """Per-row squared error of the model's output for ``inputs`` (default X) against X."""
    out = _outputs(model, X if inputs is None else inputs)
    return ((out.double() - X.double()) ** 2).sum(dim=1)


def error(model: nn.Module, X: torch.Tensor, inputs: torch.Tensor | None = None) -> float:
    return float(scores(model, X, inputs).mean())


def pair_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(reconstruction_loss(a, b))


def mean_image_error(X_train: torch.Tensor, X: torch.Tensor) -> float:
    return float(((X.double() - X_train.double().mean(dim=0)) ** 2).sum(dim=1).mean())


def pca(X: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    data = X.double().numpy()
    mean = data.mean(axis=0)
    _, _, vt = np.linalg.svd(data - mean, full_matrices=False)
    return torch.from_numpy(mean), torch.from_numpy(vt[:k].copy())


def pca_error(X: torch.Tensor, mean: torch.Tensor, components: torch.Tensor) -> float:
    centred = X.double() - mean
    return pair_error(mean + centred @ components.T @ components, X)


def heldout(*, labels: bool = False):
    from grader_support.heldout import load_heldout_upsampled

    X, y = load_heldout_upsampled()
    return (X.flatten(1), y) if labels else X.flatten(1)


def corrupt(X: torch.Tensor, noise, *, seed: int) -> torch.Tensor:
    """Masking then Gaussian noise as the notebook's NOISE lists them, drawn independently."""
    gen = torch.Generator().manual_seed(int(seed))
    out = X.clone()
    for kind, level in noise:
        if kind == "mask":
            out = out * (torch.rand(out.shape, generator=gen) >= level)
        else:
            out = (out + level * torch.randn(out.shape, generator=gen)).clamp(0.0, 1.0)
    return out


def auc(scores: torch.Tensor, positive: torch.Tensor) -> float:
    """sklearn.metrics.roc_auc_score's value, from the pairs (scikit-learn is not imported)."""
    from shared.testing.autoencoder import pairwise_auc

    return pairwise_auc(np.asarray(positive, dtype=bool), np.asarray(scores, dtype=float))


def threshold_for_fpr(normal: np.ndarray, fpr: float) -> float:
    values = np.sort(np.asarray(normal, dtype=float))
    return float(next(t for t in values if np.mean(values > t) <= fpr))


def conv_autoencoder(
    layers: list[dict], x: torch.Tensor, *, bottleneck_relu: bool = False
) -> torch.Tensor:
    """The convolutional autoencoder's table applied with the given layers' weights (float64):
    Conv2d -> ReLU -> Conv2d (-> ReLU, the catalogued mistake) -> ConvTranspose2d -> ReLU ->
    ConvTranspose2d -> Sigmoid, all kernel 3, stride 2, padding 1, output_padding 1."""
    import torch.nn.functional as F

    def weights(layer: dict) -> tuple[torch.Tensor, torch.Tensor | None]:
        bias = layer["bias"]
        return layer["weight"].double(), None if bias is None else bias.double()

    conv1, conv2, up1, up2 = layers
    h = x.double().reshape(-1, 1, 28, 28)
    h = F.relu(F.conv2d(h, *weights(conv1), stride=2, padding=1))
    h = F.conv2d(h, *weights(conv2), stride=2, padding=1)
    if bottleneck_relu:
        h = F.relu(h)
    h = F.relu(F.conv_transpose2d(h, *weights(up1), stride=2, padding=1, output_padding=1))
    h = torch.sigmoid(F.conv_transpose2d(h, *weights(up2), stride=2, padding=1, output_padding=1))
    return h.reshape(len(x), -1)
