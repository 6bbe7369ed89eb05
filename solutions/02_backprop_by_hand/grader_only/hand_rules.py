"""The backward-pass rules of question 1, each from the student's own earlier numbers.

Grader-only: applied one after another they fill in question 1, so they ship in the autograder
zip alone. Each rule lists the common slips it recognises, so a hint names the slip the numbers
show (and no hint appears when none fits).
"""

from __future__ import annotations

from shared.testing import tagged
from shared.testing.backprop_by_hand import HAND_NETWORK as N
from shared.testing.backprop_by_hand import Rule

LOSS_KEYS = ("y", "loss", "dL_dy", "delta_out")
DELTA_KEYS = ("f1", "f2", "delta_out", "delta1", "delta2")
OUTPUT_GRAD_KEYS = ("a1", "a2", "f1", "f2", "delta_out", "dL_dv1", "dL_dv2", "dL_dc")
HIDDEN_GRAD_KEYS = (
    "delta1",
    "delta2",
    "dL_dw11",
    "dL_dw12",
    "dL_dw21",
    "dL_dw22",
    "dL_db1",
    "dL_db2",
)
UPDATE_KEYS = ("dL_dv1", "dL_dw11", "v1_new", "w11_new")


def _sig(z: float) -> float:
    import math

    return 1.0 / (1.0 + math.exp(-z))


def loss_rules(v: dict[str, float]) -> list[Rule]:
    y, t = v["y"], N["t"]
    return [
        Rule(
            "loss",
            (y - t) ** 2,
            f"loss = (y - t)^2 with your y = {y:.6g} and t = 1",
            ((0.5 * (y - t) ** 2, tagged("bp.hand_loss_half", "Hint: no factor 1/2 here: the loss is (y - t)**2.")),
             (abs(y - t), tagged("bp.hand_loss_square", "Hint: square the error: (y - t)**2."))),
        ),
        Rule(
            "dL_dy",
            2 * (y - t),
            f"dL/dy = 2 (y - t) with your y = {y:.6g}",
            ((y - t, tagged("bp.hand_dl_dy_factor_two", "Hint: the derivative of (y - t)**2 keeps the factor 2: 2 (y - t).")),
             (2 * (t - y), tagged("bp.hand_dl_dy_sign", "Hint: mind the sign: d/dy (y - t)**2 = 2 (y - t), negative here since y < t."))),
        ),
        Rule(
            "delta_out",
            v["dL_dy"] * y * (1 - y),
            f"delta_out = dL_dy * y (1 - y) with your dL_dy = {v['dL_dy']:.6g}, y = {y:.6g}",
            ((v["dL_dy"], tagged("bp.hand_delta_out_derivative", "Hint: delta_out = dL/dy * g'(a_out): the output activation's derivative belongs in the delta, "
                          "and the sigmoid's slope is y (1 - y).")),
             (v["dL_dy"] * _sig(y) * (1 - _sig(y)), tagged("bp.hand_delta_out_sigmoid_twice", "Hint: y is already sigma(a_out), so g'(a_out) = y (1 - y); "
                                                   "sigma(y) (1 - sigma(y)) applies the sigmoid twice."))),
        ),
    ]  # fmt: skip


def delta_rules(v: dict[str, float]) -> list[Rule]:
    rules = []
    for j, other in (("1", "2"), ("2", "1")):
        f, vj, d = v["f" + j], N["v" + j], v["delta_out"]
        rules.append(
            Rule(
                "delta" + j,
                f * (1 - f) * vj * d,
                f"delta{j} = f{j} (1 - f{j}) v{j} delta_out with your f{j} = {f:.6g}, v{j} = {vj} and your delta_out = {d:.6g}",
                ((vj * d, tagged("bp.hand_delta_slope", f"Hint: multiply by the neuron's own slope f'(a{j}) = f{j} (1 - f{j}).")),
                 (f * (1 - f) * d, tagged("bp.hand_delta_weight", f"Hint: the output's delta reaches neuron {j} through its weight v{j} = {vj}.")),
                 (f * (1 - f) * N["v" + other] * d, tagged("bp.hand_delta_other_weight", f"Hint: neuron {j} feeds the output through v{j}, not v{other}."))),
            )
        )  # fmt: skip
    return rules


def output_gradient_rules(v: dict[str, float]) -> list[Rule]:
    d = v["delta_out"]
    rules = [
        Rule(
            f"dL_dv{j}",
            d * v["f" + j],
            f"dL/dv{j} = delta_out * f{j} with your delta_out = {d:.6g}, f{j} = {v['f' + j]:.6g}",
            ((d * v["a" + j], tagged("bp.hand_dl_dv_activation", f"Hint: v{j} multiplies the activation f{j}, not the pre-activation a{j}.")),),
        )
        for j in "12"
    ]  # fmt: skip
    rules.append(
        Rule(
            "dL_dc",
            d,
            f"dL/dc = delta_out = {d:.6g}",
            ((1.0, tagged("bp.hand_dl_dc", "Hint: a bias's input is 1, so dL/dc = delta_out.")),),
        )
    )
    return rules


def hidden_gradient_rules(v: dict[str, float]) -> list[Rule]:
    x = {"1": N["x1"], "2": N["x2"]}
    rules = []
    for j in "12":
        for i, other in (("1", "2"), ("2", "1")):
            rules.append(
                Rule(
                    f"dL_dw{j}{i}",
                    v["delta" + j] * x[i],
                    f"dL/dw{j}{i} = delta{j} * x{i} with your delta{j} = {v['delta' + j]:.6g}, x{i} = {x[i]}",
                    ((v["delta" + j] * x[other], tagged("bp.hand_dl_dw_input", f"Hint: w{j}{i} connects input {i} to hidden neuron {j}: multiply delta{j} by x{i}.")),),
                )
            )  # fmt: skip
        rules.append(
            Rule(
                f"dL_db{j}",
                v["delta" + j],
                f"dL/db{j} = delta{j} = {v['delta' + j]:.6g}",
                ((v["delta" + j] * x["1"], tagged("bp.hand_dl_db", "Hint: a bias's input is 1, so dL/db_j = delta_j.")),),
            )
        )
    return rules


def update_rules(v: dict[str, float]) -> list[Rule]:
    eta = N["eta"]
    rules = []
    for key, name, w, g in (
        ("v1_new", "v1", N["v1"], v["dL_dv1"]),
        ("w11_new", "w11", N["w11"], v["dL_dw11"]),
    ):
        rules.append(
            Rule(
                key,
                w - eta * g,
                f"{name} - eta dL/d{name} = {w} - {eta} * {g:.6g}",
                ((w + eta * g, tagged("bp.hand_update_sign", "Hint: gradient descent moves against the gradient: w <- w - eta * dL/dw.")),
                 (w - g, tagged("bp.hand_update_lr", f"Hint: scale the step by the learning rate eta = {eta}."))),
            )
        )  # fmt: skip
    return rules
