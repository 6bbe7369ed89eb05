"""Oracles for the hidden tests of 07 that would answer a graded question if students had them."""

from __future__ import annotations

import torch


def additive_scores_oracle(s, h, W, U, v):
    """e[b, i] = v . tanh(W s_b + U h_{b,i}), in float64, by an explicit loop over positions."""
    s, h, W, U, v = (t.double() for t in (s, h, W, U, v))
    columns = [torch.tanh(s @ W.T + h[:, i] @ U.T) @ v for i in range(h.shape[1])]
    return torch.stack(columns, dim=1)
