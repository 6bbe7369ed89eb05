"""Test logic of assignment 04 (CNN vs MLP), shared by its public and hidden tests.

Every student call goes through :func:`call`, so a crash names the call and a hint instead of a
bare traceback. Models are checked by behaviour, never by the modules they are built from:
parameter counts, output shapes, outputs compared with reference layers holding the student's
weights (:func:`check_matches_reference`), dropout compared under the same seed. The training
loop is checked step by step without a reference loop: :class:`StepRecorder` wraps the
optimizer and records the gradient each ``step()`` applied, which must be the gradient of the
given ``loss_fn`` on that step's batch (:func:`check_train_epoch`). ``run_experiment`` is checked
with spies in place of the student's ``train_one_epoch`` and ``evaluate``
(:func:`check_run_experiment`), so a bug in the loop (question 3) never costs question 4 again.

Nothing here answers a graded question: the reference layers and the reference ``shift`` live
in the assignment's ``grader_only/`` folder, shipped only with the autograder; public tests
pass their own small expectations in.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import inspect
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils.data import DataLoader, TensorDataset

from shared.checks import assert_close, assert_shape, check_implemented
from shared.testing import (
    beside,
    check_defined,
    is_instance,
    on_referee,
    run_beside,
    substitute,
    tagged,
    type_name,
)
from shared.testing import call as call  # re-exported: the masters import it from here
from shared.testing import check_device_free as device_free
from shared.testing import first_failure as first_failure  # re-exported, as above

# Accuracies are fractions k / N: float32 `(pred == y).float().mean()` is exact up to float32
# rounding (relative 6e-8), and N <= a few thousand keeps neighbouring values 1e-4 apart.
ACCURACY_ATOL = 1e-6
# Mean losses summed in float32 over a few batches.
LOSS_ATOL = 1e-5
# Gradients and parameters after a few float32 optimizer steps.
TRAIN_RTOL, TRAIN_ATOL = 1e-4, 1e-6
# Models compared with reference layers in float64.
MODEL_RTOL, MODEL_ATOL = 1e-9, 1e-10

LECTURE_CNN_HINT = tagged(
    "cnn.lecture_cnn_count",
    "Hint: conv 1->32 (3x3): 320, conv 32->64 (3x3): 18,496, Linear(64*7*7, 128): 401,536, "
    "Linear(128, 10): 1,290. Keep every bias.",
)
LECTURE_MLP_HINT = tagged(
    "cnn.lecture_mlp_count",
    "Hint: Linear(784, 512): 401,920, Linear(512, 32): 16,416, Linear(32, 10): 330. "
    "Keep every bias.",
)
CNN_FORWARD_HINT = tagged(
    "cnn.lecture_padding",
    "Hint: with padding=1 each 3x3 convolution keeps the side (28, then 14), each MaxPool2d(2) "
    "halves it, so the flattened features have 64 * 7 * 7 = 3136 entries.",
)
MLP_FORWARD_HINT = tagged(
    "cnn.lecture_flatten",
    "Hint: Flatten() first, so that Linear(784, 512) sees 28 * 28 = 784 features per image.",
)
FLATTEN_HINT = tagged(
    "cnn.flatten_size",
    "Hint: compute the flatten size from `canvas`: two MaxPool2d(2) leave a side of "
    "canvas // 4, so the head is nn.Linear(c2 * (canvas // 4) ** 2, n_classes).",
)
LOOP_HINT = tagged(
    "cnn.loop_formula",
    "Hint: per batch: x, y = x.to(device), y.to(device); optimizer.zero_grad(); "
    "loss = loss_fn(model(x), y) on the raw logits; loss.backward(); optimizer.step().",
)


# --------------------------------------------------------------------------- calling students


# --------------------------------------------------------------------------- progress bars


@contextlib.contextmanager
def no_progress_bar(desc: str) -> Iterator[None]:
    """Fail if a progress bar is shown within the block (any enabled tqdm, in any flavour).

    Only bars count: prints and warnings (a PyTorch warning on stderr, say) are allowed.
    """
    shown: list[str] = []
    with recording_bars(shown):
        yield
    check_no_bars(shown, desc)


@contextlib.contextmanager
def recording_bars(shown: list[str]) -> Iterator[None]:
    """Append the class name of every enabled tqdm bar created within the block to ``shown``."""
    try:
        from tqdm import std
    except ImportError:  # pragma: no cover - tqdm ships with the course environment
        yield
        return
    original = std.tqdm.__init__

    def recording_init(self, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if not getattr(self, "disable", False):
            shown.append(type(self).__name__)

    std.tqdm.__init__ = recording_init
    try:
        yield
    finally:
        std.tqdm.__init__ = original


def check_no_bars(shown: Sequence[str], desc: str) -> None:
    """Fail if ``shown`` (from :func:`recording_bars`) lists a progress bar."""
    assert not shown, tagged(
        "cnn.progress_bar",
        f"With progress=False, {desc} showed a progress bar ({shown[0]}). "
        "Hint: progress_bar(loader, enabled=progress), or tqdm(loader, disable=not progress).",
    )


# --------------------------------------------------------------------------- models


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def check_module(model: Any, desc: str) -> nn.Module:
    check_implemented(model, desc)
    assert is_instance(model, nn.Module), (
        f"{desc} should return an nn.Module, got {type_name(model)}"
    )
    return model


def check_logits(out: torch.Tensor, desc: str) -> None:
    """Fail if ``out`` (N, C) looks like probabilities or log-probabilities, not logits."""
    out = out.detach().double()
    hint = tagged(
        "cnn.logits",
        "Hint: return raw logits, no softmax at the end: "
        "nn.CrossEntropyLoss applies log-softmax itself.",
    )
    ones = torch.ones(len(out), dtype=out.dtype)
    assert not torch.allclose(out.sum(dim=1), ones), (
        f"The rows of {desc} sum to 1: the model outputs probabilities. {hint}"
    )
    assert not torch.allclose(out.logsumexp(dim=1), 0 * ones), (
        f"The rows of {desc} are log-probabilities (their logsumexp is 0). {hint}"
    )


def check_forward(
    model: nn.Module, x: torch.Tensor, out_shape: tuple, desc: str, hint: str
) -> torch.Tensor:
    """``model(x)`` without a crash, with shape ``out_shape``; returns it."""
    shape = tuple(x.shape)
    out = call(model, x, desc=f"{desc} on x of shape {shape}", hint=hint)
    assert_shape(out, out_shape, f"{desc}(x) for x of shape {shape}", hint=hint)
    return out


def check_param_count(model: nn.Module, expected: int, desc: str, detail: str) -> None:
    n = n_params(model)
    if n == expected:
        return
    why = ""
    if n == 2 * expected:
        why = tagged(
            "cnn.count_twice", " That is exactly twice the count: is a layer registered twice?"
        )
    assert n == expected, f"{desc} has {n:,} parameters instead of {expected:,}.{why} {detail}"


def check_dropout(model: nn.Module, desc: str, x: torch.Tensor, hint: str) -> None:
    """In train mode two calls differ (dropout is on); in eval mode they agree exactly."""
    with torch.no_grad():
        model.train()
        run_beside(model, torch.manual_seed, 0)  # the kernel's generator draws the masks
        a = model(x)
        b = model(x)
        model.eval()
        c, d = model(x), model(x)
    assert not torch.equal(a, b), (
        f"{desc} gives the same output twice in training mode: it has no dropout. {hint}"
    )
    assert torch.equal(c, d), (
        f"{desc} gives different outputs in eval mode: dropout should be off after model.eval(). "
        f"{hint}"
    )


def load_by_shape(model: nn.Module, reference: nn.Module, desc: str, hint: str = "") -> None:
    """Copy ``model``'s parameters into ``reference``'s, matched by shape (all shapes differ)."""
    want = [tuple(p.shape) for p in reference.parameters()]
    if len(set(want)) != len(want):  # pragma: no cover - a test configuration error
        raise ValueError(f"load_by_shape needs distinct parameter shapes, got {want}")
    got = [tuple(p.shape) for p in model.parameters()]
    assert sorted(got) == sorted(want), (
        f"{desc} should have parameter tensors of shapes {want} (in any order), got {got}. {hint}"
    ).rstrip()
    by_shape = {tuple(p.shape): p for p in model.parameters()}
    with torch.no_grad():
        for q in reference.parameters():
            q.copy_(by_shape[tuple(q.shape)])


def check_matches_reference(
    model: nn.Module,
    reference: nn.Module,
    x: torch.Tensor,
    desc: str,
    hint: str,
    *,
    dropout_seed: int | None = None,
) -> None:
    """``model`` computes what ``reference`` computes with the same weights, in float64.

    Eval mode always; with ``dropout_seed`` also training mode, both seeded alike, so dropout
    must sit where the reference has it, with its rate (``nn.Dropout`` or ``F.dropout``).
    """
    load_by_shape(model, reference, desc, hint)
    model, reference, x = model.double(), reference.double(), x.double()
    with torch.no_grad():
        model.eval()
        reference.eval()
        got = call(model, x, desc=f"{desc} on x of shape {tuple(x.shape)}", hint=hint)
        assert_close(
            got,
            reference(x),
            name=f"{desc}(x) in eval mode, compared with reference layers holding your weights",
            rtol=MODEL_RTOL,
            atol=MODEL_ATOL,
            hint=hint,
        )
        if dropout_seed is not None:
            model.train()
            reference.train()
            run_beside(model, torch.manual_seed, dropout_seed)  # where the model draws its masks
            got = model(x)
            torch.manual_seed(dropout_seed)
            expected = reference(x)
            assert_close(
                got,
                expected,
                name=f"{desc}(x) in training mode (dropout seeded alike), compared with reference "
                "layers holding your weights",
                rtol=MODEL_RTOL,
                atol=MODEL_ATOL,
                hint=hint,
            )


def check_device_free(
    make: Callable[[], nn.Module], desc: str, x_shape: tuple, out_shape: tuple
) -> None:
    """:func:`shared.testing.check_device_free` with this topic's hint tags."""
    device_free(make, desc, x_shape, out_shape, topic="cnn")


def cnn_param_count(canvas: int, channels: tuple[int, int], n_classes: int) -> int:
    """Parameters of conv(1, c1, 3) -> conv(c1, c2, 3) -> Linear(c2 (canvas // 4)^2, n_classes)."""
    c1, c2 = channels
    return 10 * c1 + (9 * c1 + 1) * c2 + (c2 * (canvas // 4) ** 2 + 1) * n_classes


def mlp_param_count(canvas: int, hidden: Sequence[int], n_classes: int) -> int:
    """Parameters of Linear layers canvas^2 -> hidden... -> n_classes, biases included."""
    widths = [canvas * canvas, *hidden, n_classes]
    return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=True))


def check_cnn_builder(
    make_cnn: Callable, canvas: int, channels: tuple[int, int], n_classes: int
) -> nn.Module:
    """Count and shapes of ``make_cnn(canvas, channels, n_classes)``; returns the model."""
    desc = f"make_cnn(canvas={canvas}, channels={channels}, n_classes={n_classes})"
    model = check_module(
        call(make_cnn, canvas=canvas, channels=channels, n_classes=n_classes, desc=desc), desc
    )
    c1, c2 = channels
    side = canvas // 4
    expected = cnn_param_count(canvas, channels, n_classes)
    check_param_count(
        model,
        expected,
        desc,
        f"Expected conv1 {10 * c1} + conv2 {(9 * c1 + 1) * c2} + head "
        f"{(c2 * side * side + 1) * n_classes}. {FLATTEN_HINT}",
    )
    out = check_forward(model, torch.rand(2, 1, canvas, canvas), (2, n_classes), desc, FLATTEN_HINT)
    check_logits(out, f"{desc}(x)")
    return model


def check_mlp_builder(
    make_mlp: Callable, canvas: int, hidden: tuple[int, ...], n_classes: int
) -> nn.Module:
    """Count, shapes and non-linearity of ``make_mlp(canvas, hidden, n_classes)``."""
    desc = f"make_mlp(canvas={canvas}, hidden={hidden}, n_classes={n_classes})"
    model = check_module(
        call(make_mlp, canvas=canvas, hidden=hidden, n_classes=n_classes, desc=desc), desc
    )
    widths = [canvas * canvas, *hidden, n_classes]
    check_param_count(
        model,
        mlp_param_count(canvas, hidden, n_classes),
        desc,
        tagged(
            "cnn.mlp_widths",
            f"Expected Linear layers {' -> '.join(map(str, widths))}. Hint: one Linear + ReLU per "
            "hidden "
            "width, then Linear(hidden[-1], n_classes); the input has canvas * canvas features.",
        ),
    )
    gen = torch.Generator().manual_seed(canvas)
    a, b = (torch.randn(8, 1, canvas, canvas, generator=gen) for _ in range(2))
    out = check_forward(
        model,
        a,
        (8, n_classes),
        desc,
        tagged("cnn.mlp_flatten", "Hint: Flatten() first, then the Linear layers."),
    )
    check_logits(out, f"{desc}(x)")
    with torch.no_grad():
        model.eval()
        affine_defect = (
            (model(a) + model(b) - model(a + b) - model(torch.zeros_like(a))).abs().max().item()
        )
    assert affine_defect > 1e-3, tagged(
        "cnn.mlp_relu",
        f"{desc} computes an affine map (f(a) + f(b) = f(a + b) + f(0) on random inputs): its "
        "Linear layers are "
        "stacked without a non-linearity. Hint: a ReLU after every hidden Linear layer.",
    )
    return model


def check_budget(
    mlp_hidden: Any, canvas: int = 16, channels: tuple[int, int] = (16, 32), n_classes: int = 10
) -> None:
    """``mlp_hidden`` gives an MLP within 10% of the CNN's parameter count (by the formulas)."""
    check_implemented(mlp_hidden, "mlp_hidden")
    try:
        hidden = tuple(int(h) for h in mlp_hidden)
    except TypeError:
        raise AssertionError(
            f"mlp_hidden should be a tuple of hidden widths such as (40,), got {mlp_hidden!r}"
        ) from None
    assert hidden and min(hidden) >= 1, (
        f"mlp_hidden should list at least one positive hidden width, got {mlp_hidden!r}"
    )
    n_cnn, n_mlp = (
        cnn_param_count(canvas, channels, n_classes),
        mlp_param_count(canvas, hidden, n_classes),
    )
    assert abs(n_mlp - n_cnn) <= 0.1 * n_cnn, tagged(
        "cnn.budget",
        f"make_mlp(hidden={hidden}) has {n_mlp:,} parameters, make_cnn() {n_cnn:,}: the budgets "
        "differ by "
        f"{abs(n_mlp - n_cnn) / n_cnn:.1%}, more than 10%. Hint: on the 16x16 canvas one hidden "
        "layer of width h has "
        "(256 + 1) h + (h + 1) 10 = 267 h + 10 parameters.",
    )


# --------------------------------------------------------------------------- training loop


class Probe(nn.Module):
    """Identity layer that records (batch size, training mode, gradients enabled) per forward."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[int, bool, bool]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls.append((len(x), self.training, torch.is_grad_enabled()))
        return x


class RecordingLoader(DataLoader):
    """A DataLoader (so ``len(loader.dataset)`` works) that keeps every batch it yields."""

    def __init__(self, X: torch.Tensor, y: torch.Tensor, batch_size: int) -> None:
        super().__init__(TensorDataset(X, y), batch_size=batch_size, shuffle=False)
        self.yielded: list[tuple[torch.Tensor, torch.Tensor]] = []

    def __iter__(self):
        for x, y in super().__iter__():
            self.yielded.append((x, y))
            yield x, y


class _MoveRecorder(TorchFunctionMode):
    """Records the ids of tensors sent with ``.to(...)`` to a device equal to ``device``."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.device = device
        self.moved: set[int] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.Tensor.to and args:
            targets = [*args[1:], kwargs.get("device")]
            for target in targets:
                if isinstance(target, (str, torch.device)):
                    with contextlib.suppress(RuntimeError):
                        if torch.device(target) == self.device:
                            self.moved.add(id(args[0]))
        return func(*args, **kwargs)


@contextlib.contextmanager
def recording_moves(device: torch.device | str) -> Iterator[_MoveRecorder]:
    recorder = _MoveRecorder(torch.device(device))
    with recorder:
        yield recorder


def watched(
    fn: Callable, args: tuple, kwargs: dict, device: torch.device | str, loader: RecordingLoader
) -> tuple[Any, list[str], list[tuple[bool, bool]]]:
    """``fn(*args, **kwargs)``, run where ``fn`` lives (via ``run_beside``), watched: returns its
    result, the progress bars it showed (:func:`recording_bars`) and, for every batch ``loader``
    yielded, whether its x and its y were sent to ``device`` with ``.to``. Raw observations:
    the test judges them (:func:`check_no_bars`, :func:`check_batches_moved`)."""
    shown: list[str] = []
    with recording_bars(shown), recording_moves(device) as moves:
        result = fn(*args, **kwargs)
    moved = [(id(x) in moves.moved, id(y) in moves.moved) for x, y in loader.yielded]
    return result, shown, moved


def call_watched(
    fn: Callable,
    *args: Any,
    device: torch.device | str,
    loader: RecordingLoader,
    desc: str,
    hint: str,
) -> tuple[Any, list[str], list[tuple[bool, bool]]]:
    """:func:`call` of ``fn(*args)`` under :func:`watched`, beside ``fn``: a crash becomes an
    AssertionError naming ``desc``, the stub's result fails as not implemented."""
    check_defined(fn, desc)
    result, shown, moved = call(
        run_beside, fn, watched, fn, args, {}, device, loader, desc=desc, hint=hint
    )
    check_implemented(result, desc)
    return result, shown, moved


def check_batches_moved(
    moved: Sequence[tuple[bool, bool]], device: torch.device | str, desc: str
) -> None:
    """Every batch's x and y were moved to ``device`` (``moved`` as :func:`watched` gives it)."""
    assert moved, f"{desc} never iterated over the loader."
    for k, flags in enumerate(moved):
        for name, was_moved in zip(("x", "y"), flags, strict=True):
            assert was_moved, tagged(
                "cnn.batch_device",
                f"{desc} did not move batch {k}'s {name} to `device` ({torch.device(device)}). "
                "Hint: the loader yields CPU "
                "tensors; start every step with x, y = x.to(device), y.to(device), so the loop "
                "works on a GPU too.",
            )


class SpyLoss(nn.Module):
    """Wraps a loss function and counts the calls (so the test knows ``loss_fn`` was used)."""

    def __init__(self, loss_fn: Callable) -> None:
        super().__init__()
        self.loss_fn = loss_fn
        self.calls = 0

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.loss_fn(logits, target)


class StepRecorder:
    """Stands in for an optimizer: records parameters and gradients at every ``step()``.

    ``optimizer`` is the optimizer, or a function of ``params`` that makes it where it is first
    used: a test builds the recorder in the grading process and sends it to the student's
    kernel, and building a ``torch.optim`` optimizer imports ``torch._dynamo`` (about 60 MB,
    which the grading process and the kernel share under Gradescope's 768 MB) where it is built.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer | Callable[[list[nn.Parameter]], torch.optim.Optimizer],
        params: Sequence[nn.Parameter],
    ) -> None:
        self._made = optimizer if not callable(optimizer) else None
        self._make = optimizer if callable(optimizer) else None
        self._params = list(params)
        self.steps: list[tuple[list[torch.Tensor], list[torch.Tensor | None]]] = []

    @property
    def _optimizer(self) -> torch.optim.Optimizer:
        if self._made is None:
            self._made = self._make(self._params)
        return self._made

    def step(self, *args: Any, **kwargs: Any) -> Any:
        self.steps.append(
            (
                [p.detach().clone() for p in self._params],
                [None if p.grad is None else p.grad.detach().clone() for p in self._params],
            )
        )
        return self._optimizer.step(*args, **kwargs)

    def zero_grad(self, *args: Any, **kwargs: Any) -> None:
        self._optimizer.zero_grad(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # unset private state (while unpickling): not the optimizer's
            raise AttributeError(name)
        return getattr(self._optimizer, name)


def _grads_at(
    net: nn.Module, params: Sequence[torch.Tensor], x, y, loss_fn, *, softmax_first=False
):
    """(loss, gradients) of ``loss_fn(net(x), y)`` with ``net``'s parameters set to ``params``."""
    with torch.no_grad():
        for p, v in zip(net.parameters(), params, strict=True):
            p.copy_(v)
    logits = net(x)
    loss = loss_fn(logits.softmax(dim=1) if softmax_first else logits, y)
    return loss.item(), torch.autograd.grad(loss, list(net.parameters()))


def _close(a: Sequence[torch.Tensor | None], b: Sequence[torch.Tensor]) -> bool:
    return all(
        g is not None and torch.allclose(g, e, rtol=TRAIN_RTOL, atol=TRAIN_ATOL)
        for g, e in zip(a, b, strict=True)
    )


def check_train_epoch(
    train_one_epoch: Callable,
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    loss_fn: Callable,
    make_optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
    desc: str,
) -> None:
    """One epoch of ``train_one_epoch`` on an in-order loader, checked step by step.

    ``model`` must have no dropout (training mode is checked by :func:`check_train_mode`).
    Checks: no progress bar with progress=False; ``loss_fn`` called; every batch moved to the
    device; one optimizer step per batch, each with the gradient of ``loss_fn(model(x), y)``
    for its own batch at the parameters of that moment; the return value is the mean loss per
    example (batches weighted by their size).
    """
    net = copy.deepcopy(model)
    params = list(model.parameters())
    optimizer = StepRecorder(make_optimizer, params)  # made where the student's loop runs
    spy = SpyLoss(loss_fn)
    loader = RecordingLoader(X, y, batch_size)
    # Trained where the student's loop runs; read back from there (the steps, the batches).
    model, optimizer, spy, loader = beside(train_one_epoch, (model, optimizer, spy, loader))
    loss, shown, moved = call_watched(
        train_one_epoch,
        model,
        loader,
        spy,
        optimizer,
        torch.device("cpu"),
        device="cpu",
        loader=loader,
        desc=desc,
        hint=LOOP_HINT,
    )
    check_no_bars(shown, desc)
    assert spy.calls > 0, tagged(
        "cnn.loss_fn_ignored",
        f"{desc} never called its loss_fn argument. Hint: compute loss = loss_fn(model(x), y) with "
        "the loss function "
        "you are given (it may not be plain cross-entropy), not F.cross_entropy or a new "
        "nn.CrossEntropyLoss().",
    )
    check_batches_moved(moved, "cpu", desc)
    batches = [(bx, by) for bx, by in loader.yielded]
    steps = optimizer.steps
    assert len(steps) == len(batches), (
        f"{desc} called optimizer.step() {len(steps)} times for {len(batches)} batches. {LOOP_HINT}"
    )
    losses, summed = [], None
    for k, ((bx, by), (at, applied)) in enumerate(zip(batches, steps, strict=True)):
        batch_loss, grads = _grads_at(net, at, bx, by, loss_fn)
        losses.append((batch_loss, len(by)))
        summed = (
            list(grads) if summed is None else [s + g for s, g in zip(summed, grads, strict=True)]
        )
        if _close(applied, grads):
            continue
        where = (
            f"At optimizer step {k + 1} of {len(batches)} "
            f"(batches of {batch_size}, {len(X)} examples)"
        )
        if k > 0 and _close(applied, summed):
            raise AssertionError(
                tagged(
                    "cnn.zero_grad",
                    f"{where} the gradient was the sum of this batch's and the earlier batches' "
                    "gradients. "
                    "Hint: backward() adds into p.grad: call optimizer.zero_grad() before every "
                    "loss.backward().",
                )
            )
        if _close(applied, _grads_at(net, at, bx, by, loss_fn, softmax_first=True)[1]):
            raise AssertionError(
                tagged(
                    "cnn.loss_on_softmax",
                    f"{where} the gradient was that of loss_fn(softmax(logits), y). Hint: pass "
                    "the raw logits to the loss; nn.CrossEntropyLoss applies log-softmax itself.",
                )
            )
        if any(g is None for g in applied):
            raise AssertionError(
                tagged(
                    "cnn.no_backward",
                    f"{where} some parameters had no gradient. Hint: call loss.backward() before "
                    "optimizer.step().",
                )
            )
        names = [n for n, _ in net.named_parameters()]
        for name, g, e in zip(names, applied, grads, strict=True):
            assert_close(
                g,
                e,
                name=f"{where}: gradient of {name}, compared with that of loss_fn(model(x), y) on "
                "the batch",
                rtol=TRAIN_RTOL,
                atol=TRAIN_ATOL,
                hint=LOOP_HINT,
            )
    assert isinstance(loss, float), (
        f"{desc} should return a Python float (use loss.item()), got {type(loss).__name__}"
    )
    per_example = sum(v * n for v, n in losses) / sum(n for _, n in losses)
    if abs(loss - per_example) > LOSS_ATOL * max(1.0, abs(per_example)):
        sizes = ", ".join(str(n) for _, n in losses)
        mean_of_means = sum(v for v, _ in losses) / len(losses)
        why = (
            tagged(
                "cnn.mean_of_batch_means",
                "That is the mean of the batch means, which over-weights the smaller last batch.",
            )
            + " "
            if abs(loss - mean_of_means) <= LOSS_ATOL
            else ""
        )
        raise AssertionError(
            f"{desc} returned {loss:.6f}, expected the mean loss per example over the epoch "
            f"{per_example:.6f} "
            f"(batches of {sizes}; tolerance {LOSS_ATOL:g}). {why}Hint: add loss.item() * len(y) "
            "per batch and divide by "
            "the number of examples."
        )


def check_train_mode(train_one_epoch: Callable, *, seed: int, desc: str) -> None:
    """Starting in eval mode, dropout is on during training, and a fixed batch is learned."""
    torch.manual_seed(seed)
    probe = Probe()
    model = nn.Sequential(
        probe, nn.Flatten(), nn.Linear(16, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 5)
    )
    X, y = torch.randn(8, 1, 4, 4), torch.arange(8) % 5
    loader = RecordingLoader(X, y, 8)
    # made where the student's loop runs (see StepRecorder)
    optimizer = StepRecorder(lambda p: torch.optim.Adam(p, lr=0.02), list(model.parameters()))
    model.eval()  # as evaluate() would leave it
    state = torch.get_rng_state()
    probe, model, loader, optimizer = beside(train_one_epoch, (probe, model, loader, optimizer))
    run_beside(train_one_epoch, torch.set_rng_state, state)  # dropout draws as in the notebook
    losses = [
        float(
            call(
                train_one_epoch,
                model,
                loader,
                nn.CrossEntropyLoss(),
                optimizer,
                "cpu",
                desc=desc,
                hint=LOOP_HINT,
            )
        )
        for _ in range(25)
    ]
    calls = probe.calls
    assert calls and all(training for _, training, _ in calls), tagged(
        "cnn.train_mode",
        "The model was in eval mode when train_one_epoch started and stayed there: dropout was off "
        "during training. "
        "Hint: call model.train() at the start of train_one_epoch.",
    )
    assert losses[-1] < 0.5 * losses[0], (
        "Training 25 epochs on one fixed batch of 8 examples (Adam, lr=0.02) should at least "
        "halve the loss; it went "
        f"from {losses[0]:.4f} to {losses[-1]:.4f}. {LOOP_HINT}"
    )


def fill_grads(model: nn.Module, value: float) -> None:
    """Set every parameter's gradient to ``value`` everywhere (run beside the student's code)."""
    for p in model.parameters():
        p.grad = torch.full_like(p, value)


def parameters_and_grads(model: nn.Module) -> list[tuple[str, torch.Tensor, torch.Tensor | None]]:
    """``(name, parameter, gradient)`` per parameter, raw (run beside the student's code)."""
    return [(name, p, p.grad) for name, p in model.named_parameters()]


def check_evaluate(
    evaluate: Callable,
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    desc: str,
) -> None:
    """``evaluate`` in eval mode, without gradients, leaving the model alone, with exact numbers.

    ``model`` must start with a :class:`Probe` and contain dropout. Expected: the mean
    cross-entropy per example and the accuracy of the model in eval mode on (X, y).
    """
    probe = next(m for m in model.modules() if isinstance(m, Probe))
    before = copy.deepcopy(model).eval()
    loader = RecordingLoader(X, y, batch_size)
    model.train()  # as train_one_epoch() would leave it
    probe, model, loader = beside(evaluate, (probe, model, loader))
    run_beside(evaluate, fill_grads, model, 0.25)  # set where evaluate runs (pickles drop .grad)
    result, shown, moved = call_watched(
        evaluate,
        model,
        loader,
        torch.device("cpu"),
        device="cpu",
        loader=loader,
        desc=desc,
        hint=tagged(
            "cnn.evaluate_formula",
            "Hint: model.eval(), then `with torch.no_grad():` a loop over the batches.",
        ),
    )
    check_no_bars(shown, desc)
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{desc} should return a tuple (mean_loss, accuracy), got {result!r:.80}"
    )
    calls = probe.calls
    assert calls, f"{desc} never called the model"
    assert not any(training for _, training, _ in calls), tagged(
        "cnn.eval_mode",
        f"{desc} ran the model in training mode, so dropout randomly zeroed activations. Hint: "
        "call model.eval() before evaluating.",
    )
    assert not any(grad for _, _, grad in calls), tagged(
        "cnn.eval_no_grad",
        f"{desc} ran the model with gradients enabled: PyTorch built a graph for every batch. "
        "Hint: wrap the evaluation loop in `with torch.no_grad():` (and never call backward() or "
        "optimizer.step() there).",
    )
    after = run_beside(evaluate, parameters_and_grads, model)
    for (name, p, grad), q in zip(after, before.parameters(), strict=True):
        assert torch.equal(p, q), tagged(
            "cnn.eval_changed_params",
            f"{desc} changed parameter {name}. Hint: evaluation must not call backward() or "
            "optimizer.step().",
        )
        assert grad is not None and torch.equal(grad, torch.full_like(p, 0.25)), tagged(
            "cnn.eval_changed_grads",
            f"{desc} changed the gradient of {name} (it was 0.25 everywhere). Hint: no "
            "loss.backward() and no zero_grad() in evaluation.",
        )
    check_batches_moved(moved, "cpu", desc)
    loss, acc = (float(v) for v in result)
    with torch.no_grad():
        logits = before(X)
    expected_loss = nn.functional.cross_entropy(logits, y, reduction="sum").item() / len(y)
    expected_acc = (logits.argmax(dim=1) == y).sum().item() / len(y)
    sizes = [len(y[i : i + batch_size]) for i in range(0, len(y), batch_size)]
    assert abs(acc - expected_acc) <= ACCURACY_ATOL, tagged(
        "cnn.eval_accuracy",
        f"{desc} returned accuracy {acc:.6f}, expected {expected_acc:.6f} on {len(y)} examples in "
        f"batches of {sizes} "
        f"(tolerance {ACCURACY_ATOL:g}). Hint: count (logits.argmax(dim=1) == y) over all batches "
        "and divide by the number of examples.",
    )
    assert abs(loss - expected_loss) <= LOSS_ATOL, tagged(
        "cnn.eval_loss_mean",
        f"{desc} returned mean loss {loss:.6f}, expected {expected_loss:.6f}: cross-entropy summed "
        f"over all {len(y)} "
        f"examples (batches of {sizes}), divided by {len(y)} (tolerance {LOSS_ATOL:g}). Hint: "
        "F.cross_entropy(logits, y, "
        "reduction='sum') per batch; a mean of the batch means over-weights a smaller last batch.",
    )


# --------------------------------------------------------------------------- loaders and driver


def check_loaders(
    make_loaders: Callable,
    *,
    canvas: int,
    shifted: bool,
    batch_size: int,
    seed: int,
    load: Callable,
) -> None:
    """The loaders of ``make_loaders``: the right split and pairs, batch sizes, order, seeding.

    ``load`` is ``shared.digits.load_digits_data``.
    """
    desc = f"make_loaders(canvas={canvas}, shifted={shifted}, batch_size={batch_size}, seed={seed})"
    result = call(
        make_loaders, canvas=canvas, shifted=shifted, batch_size=batch_size, seed=seed, desc=desc
    )
    assert isinstance(result, tuple) and len(result) == 2, (
        f"{desc} should return (train_loader, test_loader), got {type(result).__name__}"
    )
    train_loader, test_loader = result
    batches = list(train_loader)
    sizes = [len(b) for _, b in batches]
    X, y = torch.cat([x for x, _ in batches]), torch.cat([b for _, b in batches])
    X_train, y_train = load("train", canvas=canvas, shifted=shifted)
    X_test, y_test = load("test", canvas=canvas, shifted=shifted)
    assert tuple(X.shape[1:]) == (1, canvas, canvas), (
        f"{desc}: training images should have shape (1, {canvas}, {canvas}), got "
        f"{tuple(X.shape[1:])}"
    )
    assert len(X) == len(X_train), tagged(
        "cnn.loader_train_split",
        f"{desc}: one pass over the training loader should give the {len(X_train)} training "
        f"digits, got {len(X)}. "
        "Hint: build the training loader from the 'train' split; the 'test' split is only for "
        "evaluation.",
    )
    assert sizes[0] == batch_size and all(s == batch_size for s in sizes[:-1]), (
        f"{desc}: training batches should hold {batch_size} digits, got sizes {sizes[:4]}..."
    )
    test_images = {bytes(x.numpy()) for x in X_test}
    assert not any(bytes(x.numpy()) in test_images for x in X), tagged(
        "cnn.loader_test_images",
        f"{desc}: the training loader yields images of the test split. Hint: never train on the "
        "test set.",
    )
    pairs = collections.Counter((bytes(a.numpy()), int(b)) for a, b in zip(X, y, strict=True))
    expected_pairs = collections.Counter(
        (bytes(a.numpy()), int(b)) for a, b in zip(X_train, y_train, strict=True)
    )
    if pairs != expected_pairs:
        images = collections.Counter(bytes(a.numpy()) for a in X)
        if images == collections.Counter(bytes(a.numpy()) for a in X_train):
            raise AssertionError(
                tagged(
                    "cnn.labels_shifted",
                    f"{desc}: the training loader holds the right images, but "
                    f"{sum((pairs - expected_pairs).values())} "
                    "of them come with a label that is not their own. Hint: keep each image with "
                    "its own label: pass X_train "
                    "and y_train unchanged to make_loader.",
                )
            )
        raise AssertionError(
            tagged(
                "cnn.loader_canvas",
                f"{desc}: the training loader should hold the 'train' split on a {canvas}x{canvas} "
                "canvas "
                f"(shifted={shifted}). Hint: pass canvas and shifted to load_digits_data.",
            )
        )
    assert not torch.equal(y, y_train), tagged(
        "cnn.loader_shuffle", f"{desc}: the training loader should be shuffled (shuffle=True)."
    )
    orders = [
        torch.cat(
            [
                b
                for _, b in call(
                    make_loaders,
                    canvas=canvas,
                    shifted=shifted,
                    batch_size=batch_size,
                    seed=s,
                    desc=desc,
                )[0]
            ]
        )
        for s in (seed, seed, seed + 1)
    ]
    assert torch.equal(orders[0], orders[1]), tagged(
        "cnn.loader_seed",
        f"Two calls of {desc} should give the same batch order. Hint: make_loader(..., seed=seed).",
    )
    assert not torch.equal(orders[0], orders[2]), tagged(
        "cnn.loader_seed_passed",
        f"make_loaders with seeds {seed} and {seed + 1} gave the same batch order. Hint: pass "
        "`seed` to make_loader.",
    )
    test_batches = list(test_loader)
    X_t, y_t = torch.cat([x for x, _ in test_batches]), torch.cat([b for _, b in test_batches])
    assert torch.equal(X_t, X_test) and torch.equal(y_t, y_test), tagged(
        "cnn.test_loader_order",
        f"{desc}: the test loader should yield the 'test' split in its original order "
        "(shuffle=False), each image with its label.",
    )
    assert len(test_batches[0][1]) == min(256, len(y_test)), (
        f"{desc}: the test loader should use batches of 256, got {len(test_batches[0][1])}."
    )


class _LoopSpies:
    """Stand-ins for ``train_one_epoch`` and ``evaluate`` that record how they are called."""

    TRAIN = inspect.Signature(
        [
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for n in ("model", "loader", "loss_fn", "optimizer", "device")
        ]
        + [inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)]
    )
    EVALUATE = inspect.Signature(
        [
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
            for n in ("model", "loader", "device")
        ]
        + [inspect.Parameter("progress", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=False)]
    )

    def __init__(self) -> None:
        self.log: list[tuple[str, dict, Any]] = []

    def train_one_epoch(self, *args: Any, **kwargs: Any) -> float:
        bound = self.TRAIN.bind(*args, **kwargs).arguments
        value = 2.0 + 0.125 * sum(kind == "train" for kind, _, _ in self.log)
        self.log.append(("train", dict(bound), value))
        return value

    def evaluate(self, *args: Any, **kwargs: Any) -> tuple[float, float]:
        bound = self.EVALUATE.bind(*args, **kwargs).arguments
        k = sum(kind == "evaluate" for kind, _, _ in self.log)
        value = (1.5 - 0.0625 * k, 0.25 + 0.03125 * k)
        self.log.append(("evaluate", dict(bound), value))
        return value


def object_ids(*objects: Any) -> list[int]:
    """``id`` of each object, taken where they live (run beside the student's code): what
    ``is`` compares, for objects the test reaches through the grading referee's proxies."""
    return [id(obj) for obj in objects]


def parameter_ids(model: nn.Module) -> list[int]:
    """``id`` of each of ``model.parameters()`` (run beside the student's code)."""
    return [id(p) for p in model.parameters()]


def optimizer_parameter_ids(optimizer: torch.optim.Optimizer) -> list[int]:
    """``id`` of each parameter in ``optimizer.param_groups`` (run beside the student's code)."""
    return [id(p) for group in optimizer.param_groups for p in group["params"]]


def check_run_experiment(
    run_experiment: Callable,
    *,
    epochs: int,
    lr: float,
    seed: int,
    env: Mapping[str, Any] | None = None,
) -> None:
    """``run_experiment`` with spies for the student's loop, on PyTorch's meta device.

    Checks that the model is moved to ``device``, trained with one Adam(model.parameters(), lr)
    and a cross-entropy loss for ``epochs`` epochs on the training loader only, evaluated on
    the test loader after each, and that the history holds exactly what the loop returned.
    The spies replace ``train_one_epoch`` and ``evaluate`` in ``run_experiment``'s globals: the
    notebook's globals ``env`` when the grading referee runs the test (its proxies have no
    ``__globals__``).
    """
    desc = (
        f"run_experiment(model, train_loader, test_loader, epochs={epochs}, lr={lr}, device='meta')"
    )
    gen = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(
        TensorDataset(torch.rand(6, 1, 4, 4, generator=gen), torch.arange(6) % 3), batch_size=3
    )
    test_loader = DataLoader(
        TensorDataset(torch.rand(4, 1, 4, 4, generator=gen), torch.arange(4) % 3), batch_size=2
    )
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))
    check_defined(run_experiment, desc)
    if on_referee(run_experiment):
        if env is None:  # pragma: no cover - a test configuration error
            raise ValueError("check_run_experiment needs env= when the referee grades")
        namespace = env
    else:
        namespace = run_experiment.__globals__
    # Spies, model and loaders live where run_experiment runs, so the spies see them as they are.
    spies, model, train_loader, test_loader = beside(
        run_experiment, (_LoopSpies(), model, train_loader, test_loader)
    )
    with substitute(namespace, train_one_epoch=spies.train_one_epoch, evaluate=spies.evaluate):
        history = call(
            run_experiment,
            model,
            train_loader,
            test_loader,
            epochs=epochs,
            lr=lr,
            device="meta",
            desc=desc,
            hint=tagged(
                "cnn.experiment_formula",
                "Hint: call train_one_epoch(model, train_loader, loss_fn, optimizer, device) and "
                "evaluate(model, test_loader, device) once per epoch.",
            ),
        )
    log = spies.log

    def ids(*objects: Any) -> list[int]:
        return run_beside(run_experiment, object_ids, *objects)

    train_id, test_id, model_id = ids(train_loader, test_loader, model)
    loaders = ids(*[args["loader"] for _, args, _ in log])  # `is` compares these ids
    trains = [args for kind, args, _ in log if kind == "train"]
    train_loaders = [lid for (kind, _, _), lid in zip(log, loaders, strict=True) if kind == "train"]
    evaluations = [
        (args, value)
        for (kind, args, value), lid in zip(log, loaders, strict=True)
        if kind == "evaluate" and lid == test_id
    ]
    never_train = "the test set must never be used for training"
    assert all(lid != test_id for lid in train_loaders), tagged(
        "cnn.trained_on_test",
        f"{desc} called train_one_epoch on the test loader: {never_train}. Hint: "
        "train_one_epoch(model, train_loader, ...).",
    )
    assert len(trains) == epochs and all(lid == train_id for lid in train_loaders), (
        f"{desc} called train_one_epoch {len(trains)} times (on the training loader: "
        f"{sum(lid == train_id for lid in train_loaders)}), expected once per epoch, {epochs}."
    )
    assert len(evaluations) == epochs, (
        f"{desc} evaluated on the test loader {len(evaluations)} times, expected once per epoch, "
        f"{epochs}."
    )
    order = [
        kind
        for (kind, _, _), lid in zip(log, loaders, strict=True)
        if kind == "train" or lid == test_id
    ]
    assert order == ["train", "evaluate"] * epochs, (
        f"{desc} should train one epoch, then evaluate on the test loader, in turn; the calls came "
        f"as {order}."
    )
    first = trains[0]
    first_model_id, *optimizer_ids = ids(first["model"], *[a["optimizer"] for a in trains])
    assert (
        all(p.device.type == "meta" for p in first["model"].parameters())
        and first_model_id == model_id
    ), tagged(
        "cnn.model_device",
        f"When {desc} first called train_one_epoch, the model's parameters were on "
        f"{sorted({str(p.device) for p in first['model'].parameters()})}. Hint: model.to(device) "
        "before training.",
    )
    assert all(torch.device(a["device"]) == torch.device("meta") for a in trains) and all(
        torch.device(a["device"]) == torch.device("meta") for a, _ in evaluations
    ), f"{desc} should pass its `device` on to train_one_epoch and evaluate."
    optimizer = first["optimizer"]
    assert all(oid == optimizer_ids[0] for oid in optimizer_ids), tagged(
        "cnn.optimizer_per_epoch",
        f"{desc} gave train_one_epoch a new optimizer in some epochs. Hint: make one optimizer "
        "before the loop over epochs, "
        "so that Adam's running averages carry over from epoch to epoch.",
    )
    assert is_instance(optimizer, torch.optim.Adam), (
        f"{desc} should train with torch.optim.Adam, got {type_name(optimizer)}"
    )
    params = set(run_beside(run_experiment, parameter_ids, model))
    group_params = set(run_beside(run_experiment, optimizer_parameter_ids, optimizer))
    assert group_params == params, (
        f"{desc}: the optimizer should hold all of model.parameters() ({len(params)} tensors), it "
        f"holds {len(group_params)}."
    )
    lrs = {group["lr"] for group in optimizer.param_groups}
    assert lrs == {lr}, f"{desc}: Adam should have lr={lr}, got {sorted(lrs)}."
    logits, target = torch.randn(5, 3, generator=gen), torch.tensor([0, 2, 1, 1, 0])
    loss_fn = first["loss_fn"]
    got = call(loss_fn, logits, target, desc=f"the loss_fn that {desc} passed to train_one_epoch")
    assert_close(
        got,
        nn.functional.cross_entropy(logits, target),
        name="loss_fn(logits, y) passed to train_one_epoch",
        hint=tagged("cnn.experiment_loss", "Hint: loss_fn = nn.CrossEntropyLoss()."),
    )
    assert isinstance(history, dict) and set(history) == {"train_loss", "test_loss", "test_acc"}, (
        f"{desc} should return a dict with keys 'train_loss', 'test_loss', 'test_acc', got "
        f"{history!r:.120}"
    )
    expected = {
        "train_loss": [v for kind, _, v in log if kind == "train"],
        "test_loss": [v[0] for _, v in evaluations],
        "test_acc": [v[1] for _, v in evaluations],
    }
    source = {
        "train_loss": "train_one_epoch",
        "test_loss": "evaluate(model, test_loader, device)",
        "test_acc": "evaluate(model, test_loader, device)",
    }
    for key, values in expected.items():
        got = list(history[key])
        assert len(got) == epochs and all(
            float(a) == b for a, b in zip(got, values, strict=True)
        ), (
            f"{desc}: history[{key!r}] should hold, per epoch, the value that "
            f"{source[key]} returned, {values}; got {got}."
        )


# --------------------------------------------------------------------------- the experiment

EXPERIMENT_KEYS = (("shifted", "cnn"), ("shifted", "mlp"), ("centred", "cnn"), ("centred", "mlp"))


def check_final_numbers(
    final_acc: Any, gap_shifted: Any, gap_centred: Any, histories: Mapping
) -> None:
    """``final_acc`` holds each run's last test accuracy; the gaps are CNN minus MLP."""
    check_implemented(final_acc, "final_acc")
    keys = sorted(EXPERIMENT_KEYS)
    assert isinstance(final_acc, Mapping) and sorted(final_acc) == keys, (
        f"final_acc should have the keys {keys}, got {list(final_acc)[:6]}"
    )
    for key in EXPERIMENT_KEYS:
        last = float(histories[key]["test_acc"][-1])
        assert abs(float(final_acc[key]) - last) <= ACCURACY_ATOL, tagged(
            "cnn.final_acc_last",
            f"final_acc[{key}] is {float(final_acc[key]):.4f}, but the last entry of "
            f"histories[{key}]['test_acc'] is {last:.4f}. "
            "Hint: take the accuracy after the last epoch.",
        )
    for name, value, data in (
        ("gap_shifted", gap_shifted, "shifted"),
        ("gap_centred", gap_centred, "centred"),
    ):
        check_implemented(value, name)
        expected = float(final_acc[data, "cnn"]) - float(final_acc[data, "mlp"])
        assert abs(float(value) - expected) <= 2 * ACCURACY_ATOL, (
            f"{name} should be the CNN's minus the MLP's final accuracy on {data} digits, "
            f"{expected:+.4f}; got {float(value):+.4f}."
            + (
                tagged("cnn.gap_sign", " Hint: CNN minus MLP, not the other way round.")
                if abs(float(value) + expected) <= 2 * ACCURACY_ATOL
                else ""
            )
        )


def upstream_checks(
    make_cnn,
    make_mlp,
    mlp_hidden,
    train_one_epoch,
    evaluate,
    make_loaders,
    run_experiment,
    load,
    env=None,
):
    """The public checks of questions 2 to 4, by question, for :func:`first_failure`.

    ``env``: the notebook's globals, where :func:`check_run_experiment` puts its spies when the
    grading referee runs the checks.

    The experiment of question 5 trains with these functions; when one of them is wrong, that
    question has already lost its points and question 5 does not judge the experiment again.
    """

    def train_checks():
        gen = torch.Generator().manual_seed(7)
        X, y = torch.randn(12, 1, 3, 3, generator=gen), torch.randint(0, 4, (12,), generator=gen)
        torch.manual_seed(3)
        model = nn.Sequential(nn.Flatten(), nn.Linear(9, 6), nn.ReLU(), nn.Linear(6, 4))
        check_train_epoch(
            train_one_epoch,
            model,
            X,
            y,
            batch_size=5,
            loss_fn=nn.CrossEntropyLoss(),
            make_optimizer=lambda p: torch.optim.Adam(p, lr=0.05),
            desc="train_one_epoch",
        )
        check_train_mode(train_one_epoch, seed=11, desc="train_one_epoch")
        torch.manual_seed(21)
        model = nn.Sequential(
            Probe(), nn.Flatten(), nn.Linear(9, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3)
        )
        check_evaluate(evaluate, model, X[:10], y[:10] % 3, batch_size=4, desc="evaluate")

    def loader_checks():
        for shifted in (True, False):
            check_loaders(
                make_loaders, canvas=16, shifted=shifted, batch_size=16, seed=0, load=load
            )
        check_run_experiment(run_experiment, epochs=2, lr=0.01, seed=2, env=env)

    def model_checks():
        torch.manual_seed(0)
        check_cnn_builder(make_cnn, 16, (16, 32), 10)
        check_budget(mlp_hidden)  # first: it fails a missing or malformed mlp_hidden cleanly
        check_mlp_builder(make_mlp, 16, tuple(mlp_hidden), 10)

    return {"q2": model_checks, "q3": train_checks, "q4": loader_checks}


UPSTREAM_NAMES = (
    "make_cnn",
    "make_mlp",
    "mlp_hidden",
    "train_one_epoch",
    "evaluate",
    "make_loaders",
    "run_experiment",
)


def upstream_checks_in(env: Mapping, load: Callable) -> dict[str, Callable[[], None]]:
    """:func:`upstream_checks` on the notebook's globals ``env``, for :func:`shared.testing.gate`.

    Read from ``env`` so that a name an earlier cell failed to define fails its own question's
    check (and leaves question 5 not judged) instead of failing question 5's test outright.
    """
    return upstream_checks(*(env.get(name) for name in UPSTREAM_NAMES), load, env=env)


def check_claim(acc: Mapping, where: str, *, runs: str) -> None:
    """The lecture's claim on accuracies ``acc`` keyed like :data:`EXPERIMENT_KEYS`."""
    cnn, mlp = float(acc["shifted", "cnn"]), float(acc["shifted", "mlp"])
    assert cnn >= 0.6 and cnn - mlp >= 0.2, (
        f"On shifted digits ({where}) the CNN should reach an accuracy of at least 0.6 and beat "
        "the MLP by at least 0.2; "
        f"got CNN {cnn:.3f}, MLP {mlp:.3f}. Your functions of questions 2 to 4 pass their checks, "
        f"so look at {runs}."
    )
    centred = {name: float(acc["centred", name]) for name in ("cnn", "mlp")}
    assert min(centred.values()) >= 0.8 and abs(centred["cnn"] - centred["mlp"]) <= 0.1, (
        f"On centred digits ({where}) both networks should reach 0.8 and be within 0.1 of each "
        "other; got CNN "
        f"{centred['cnn']:.3f}, MLP {centred['mlp']:.3f}. Your functions of questions 2 to 4 pass "
        f"their checks, so look at {runs}."
    )


# --------------------------------------------------------------------------- equivariance


def check_shift(shift: Callable, x: torch.Tensor, dy: int, dx: int, expected: torch.Tensor) -> None:
    desc = f"shift(x, {dy}, {dx}) for x of shape {tuple(x.shape)}"
    original = x.clone()
    hint = tagged(
        "cnn.shift_formula",
        "Hint: out = torch.zeros_like(x), then copy the part of x that stays on the canvas; moving "
        "down by dy "
        "means out[..., dy:, :] = x[..., :H - dy, :]. torch.roll would wrap the pixels around "
        "instead of filling with zeros.",
    )
    x_there = beside(shift, x)  # where shift runs, so that a change in place shows here
    out = call(shift, x_there, dy, dx, desc=desc, hint=hint)
    assert torch.equal(x_there.clone(), original), tagged(
        "cnn.shift_in_place", f"{desc} modified its input x in place: return a new tensor."
    )
    assert isinstance(out, torch.Tensor) and out.dtype == x.dtype, tagged(
        "cnn.shift_dtype",
        f"{desc} should return a tensor of x's dtype {x.dtype}, got "
        f"{getattr(out, 'dtype', type(out).__name__)}. Hint: torch.zeros_like(x).",
    )
    assert_close(out, expected, name=desc, rtol=0, atol=0, hint=hint)


def check_gap(
    equivariance_gap: Callable,
    f: Callable,
    x: torch.Tensor,
    dy: int,
    dx: int,
    margin: int,
    expected: float,
    what: str,
) -> None:
    """``equivariance_gap(f, x, dy, dx, margin)`` is ``expected`` (relative 1e-9)."""
    desc = (
        f"equivariance_gap({what}, x, {dy}, {dx}, margin={margin}) for x of shape {tuple(x.shape)}"
    )
    hint = tagged(
        "cnn.gap_formula",
        "Hint: f(shift(x)) - shift(f(x)), cropped [..., margin:H - margin, margin:W - margin], "
        "then the max of its absolute value.",
    )
    if margin == 0:
        hint += tagged(
            "cnn.gap_margin_zero",
            " With margin=0, x[..., 0:-0] would be empty: slice up to H - margin.",
        )
    with torch.no_grad():
        gap = call(equivariance_gap, f, x, dy, dx, margin, desc=desc, hint=hint)
    assert isinstance(gap, float), (
        f"{desc} should return a Python float (use .item()), got {type(gap).__name__}"
    )
    if abs(gap - expected) <= 1e-9 * max(expected, 1e-300) or (expected == 0 and gap < 1e-12):
        return
    why = ""
    if expected > 0 and abs(gap) < 1e-12:
        why = tagged(
            "cnn.gap_abs",
            " The differences here are all <= 0: take the absolute value before the max.",
        )
    raise AssertionError(
        f"{desc} should be {expected:.6g}, got {gap:.6g} (relative tolerance 1e-9).{why} {hint}"
    )


def offset_map(c: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """f(x) = x - c: f(shift(x)) - shift(f(x)) is -c where pixels came in, 0 elsewhere.

    So its gap is exactly c with margin 0, and 0 with a margin as wide as the shift.
    """
    return lambda images: images - c


# --------------------------------------------------------------------------- conv as an MLP


def patches_expected(x: torch.Tensor, k: int) -> torch.Tensor:
    """All k x k patches of x (N, C, H, W) as (N, H - k + 1, W - k + 1, C k k), via F.unfold."""
    N, C, H, W = x.shape
    return nn.functional.unfold(x, k).transpose(1, 2).reshape(N, H - k + 1, W - k + 1, C * k * k)


CONVOLUTIONS = ("torch.nn.functional.conv2d", "torch.conv2d")
PATCH_HINT = tagged(
    "cnn.patch_order",
    "Hint: patch (i, j) is x[n, :, i:i+k, j:j+k] flattened in (C, k, k) order, channel first, "
    "and the conv weight is linear.weight.reshape(C_out, C, k, k) in that same order.",
)


def check_patches(extract_patches: Callable, x: torch.Tensor, k: int) -> None:
    """``extract_patches(x, k)`` equals F.unfold's patches exactly, with no convolution called."""
    from shared.forbid import forbid

    desc = f"extract_patches(x, {k}) for x of shape {tuple(x.shape)}"
    with forbid(
        *CONVOLUTIONS,
        reason="Extract the patches with slicing or Tensor.unfold, not a convolution.",
    ):
        out = call(extract_patches, x, k, desc=desc, hint=PATCH_HINT)
    assert_close(out, patches_expected(x, k), name=desc, rtol=0, atol=0, hint=PATCH_HINT)


def check_linear_to_conv(
    linear_to_conv: Callable, linear: nn.Linear, C: int, k: int, x: torch.Tensor
) -> None:
    """A Conv2d with the Linear layer's device, dtype and bias, computing it on every patch."""
    has_bias = linear.bias is not None
    desc = (
        f"linear_to_conv(Linear({linear.in_features}, {linear.out_features}, "
        f"bias={has_bias}), {C}, {k})"
    )
    conv = call(linear_to_conv, linear, C, k, desc=desc, hint=PATCH_HINT)
    assert is_instance(conv, nn.Conv2d), f"{desc} should return an nn.Conv2d, got {type_name(conv)}"
    assert (conv.bias is None) == (linear.bias is None), (
        f"{desc} should have a bias exactly when the Linear layer has one."
    )
    assert (
        conv.weight.dtype == linear.weight.dtype and conv.weight.device == linear.weight.device
    ), tagged(
        "cnn.conv_device",
        f"{desc} should be on the Linear layer's device and dtype ({linear.weight.device}, "
        f"{linear.weight.dtype}), got "
        f"{conv.weight.device}, {conv.weight.dtype}. Hint: nn.Conv2d(..., "
        "device=linear.weight.device, dtype=linear.weight.dtype).",
    )
    if linear.weight.device.type == "meta":
        return
    N, _, H, W = x.shape
    with torch.no_grad():
        expected = linear(patches_expected(x, k)).permute(0, 3, 1, 2)
        got = call(
            conv, x, desc=f"the conv from {desc} on x of shape {tuple(x.shape)}", hint=PATCH_HINT
        )
    assert_close(
        got,
        expected,
        name=f"conv(x) for the conv from {desc}, x of shape {tuple(x.shape)}",
        rtol=1e-10,
        atol=1e-12,
        hint=PATCH_HINT + " Stride 1, no padding.",
    )
