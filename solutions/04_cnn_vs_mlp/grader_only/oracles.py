"""Reference layers and functions for the hidden tests of 04 (they answer graded questions)."""

from __future__ import annotations

from torch import nn


def lecture_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10),
    )


def lecture_mlp() -> nn.Sequential:
    return nn.Sequential(
        nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 32), nn.ReLU(), nn.Linear(32, 10)
    )


def cnn(canvas: int, channels: tuple[int, int], n_classes: int) -> nn.Sequential:
    c1, c2 = channels
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * (canvas // 4) ** 2, n_classes),
    )


def mlp(canvas: int, hidden: tuple[int, ...], n_classes: int) -> nn.Sequential:
    widths = [canvas * canvas, *hidden, n_classes]
    layers: list[nn.Module] = [nn.Flatten()]
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def shift(x, dy: int, dx: int):
    """x (N, C, H, W) moved dy rows down and dx columns right, zeros coming in."""
    H, W = x.shape[-2:]
    padded = nn.functional.pad(x, (max(dx, 0), max(-dx, 0), max(dy, 0), max(-dy, 0)))
    return padded[..., max(-dy, 0) : max(-dy, 0) + H, max(-dx, 0) : max(-dx, 0) + W]
