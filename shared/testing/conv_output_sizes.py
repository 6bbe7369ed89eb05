"""Test logic of assignment 03 (conv output sizes), shared by its public and hidden tests.

PyTorch is the oracle: every expected size is measured by running a PyTorch layer on a zero
tensor, every expected count by reading a layer's parameters, every receptive field by the
gradient of one output unit. Case generators draw configurations from a seed and ranges, so the
public and hidden tests call the same ``check_*`` functions with different inputs. Diagnosers
pick a hint from what a wrong answer reveals (a ceiling where PyTorch floors, a count exactly
twice too large, the width computed like the height, zero padding that wins a max). Every call
of student code goes through :func:`call`, so a crash names the call and its configuration.

A later question that uses earlier answers (q4 traces with the sizes of q1 and q2 and counts with
the parameters of q3; q6 may size its output with q1's function) is tested with those earlier
functions replaced, while the test runs, by PyTorch measurements with the same signatures
(:func:`earlier_answers_replaced`): one mistake costs one question.
"""

from __future__ import annotations

import copy
import functools
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from shared.checks import assert_close, assert_shape, check_implemented
from shared.forbid import forbid
from shared.testing import check_defined, run_beside, stand_in, substitute, tagged

# Bound at import: q6 forbids the public names of these functions while the student's code runs,
# and the oracles that stand in for earlier answers must keep working there.
_CONV1D = torch.conv1d
_CONV2D = torch.conv2d
_CONV_TRANSPOSE1D = torch.conv_transpose1d
_MAX_POOL1D = torch.max_pool1d
_MAX_POOL2D = torch.max_pool2d
_AVG_POOL1D = torch.avg_pool1d
_AVG_POOL2D = torch.nn.functional.avg_pool2d

SPATIAL = (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d)
LAYER_FORWARDS = tuple(
    f"torch.nn.{name}.forward"
    for name in ("Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "Linear", "Flatten")
)
PARAMETER_LISTS = ("torch.nn.Module.parameters", "torch.nn.Module.named_parameters")
LIBRARY_CONV = (
    "torch.nn.functional.conv2d",
    "torch.conv2d",
    "torch.nn.functional.conv1d",
    "torch.conv1d",
    "torch.nn.functional.conv3d",
    "torch.convolution",
    "torch._convolution",
    "torch.nn.functional.conv_transpose2d",
    "torch.nn.Conv2d.forward",
    "torch.nn.Conv2d._conv_forward",
)
LIBRARY_MAX_POOL = (
    "torch.nn.functional.max_pool2d",
    "torch.max_pool2d",
    "torch.nn.functional.max_pool2d_with_indices",
    "torch.nn.functional.max_pool1d",
    "torch.max_pool1d",
    "torch.nn.functional.adaptive_max_pool2d",
    "torch.nn.functional.fractional_max_pool2d",
    "torch.nn.MaxPool2d.forward",
)
TRACE_REASON = (
    "Work the shapes out from each layer's attributes with your formulas; do not call the layer."
)
COUNT_REASON = "Count from the layers' hyper-parameters with conv2d_params and linear_params."
CONV_REASON = "Build the patches with unfold and multiply by the reshaped weights."
POOL_REASON = "Take the max over windows made with unfold."

# conv2d and max_pool2d are compared in float64 with these tolerances (float64 round-off of a
# sum of a few hundred products is below 1e-13); a float32 input is compared at float32's.
FLOAT64_RTOL, FLOAT64_ATOL = 1e-9, 1e-10
FLOAT32_RTOL, FLOAT32_ATOL = 1e-4, 1e-4
# More Python lines than this for a large output than for a small one means a loop over positions.
LOOP_SLACK = 10


# ---------------------------------------------------------------------------------------------
# Calling student code


def _hinted(message: str, hint: str) -> str:
    hint = hint.strip()
    if not hint:
        return message
    return f"{message}\n{hint if hint.lower().startswith('hint') else 'Hint: ' + hint}"


def call(
    fn: Callable[..., Any],
    *args: Any,
    label: str,
    hint: str | Callable[[BaseException], str] = "",
    forbid_while: tuple[Sequence[str], str] | None = None,
    **kwargs: Any,
) -> Any:
    """``fn(*args, **kwargs)``; a crash becomes an ``AssertionError`` that names ``label``.

    ``hint`` is a string or a function of the exception that returns one (so the hint can depend
    on what went wrong). A ``None``/``...`` result fails as an untouched stub. ``forbid_while``,
    ``(names, reason)``: the call runs with those names forbidden and the earlier answers
    replaced (:func:`replaced_call`).
    """
    check_defined(fn, label)
    try:
        if forbid_while is None:
            out = fn(*args, **kwargs)
        else:
            names, reason = forbid_while
            out = replaced_call(fn, args, kwargs, forbidden=names, reason=reason)
    except Exception as exc:  # noqa: BLE001 - any crash of student code becomes a test failure
        text = hint(exc) if callable(hint) else hint
        raise AssertionError(_hinted(f"{label} raised {type(exc).__name__}: {exc}", text)) from exc
    check_implemented(out, label)
    return out


def expect_int(value: Any, label: str) -> int:
    """``value`` as an int, failing unless it is an integer (a Python or NumPy int, not a bool)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return int(value)
    raise AssertionError(
        tagged(
            "conv.size_int",
            f"{label} should return an int, got {value!r} of type {type(value).__name__}. "
            "Hint: integer division // gives an int; math.floor and math.ceil return ints too, "
            "but / alone, np.floor and torch sizes do not.",
        )
    )


def _args(**kwargs: Any) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in kwargs.items())


# ---------------------------------------------------------------------------------------------
# PyTorch measurements


@functools.lru_cache(maxsize=4096)
def torch_conv_size(
    n: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of PyTorch's ``conv1d`` on ``n`` inputs; ``RuntimeError`` if refused."""
    if n < 1 or kernel < 1:
        raise RuntimeError(f"empty input or kernel (n={n}, kernel={kernel})")
    x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, kernel)
    return int(_CONV1D(x, w, None, stride, padding, dilation).shape[-1])


@functools.lru_cache(maxsize=4096)
def torch_pool_size(
    n: int,
    kernel: int,
    stride: int | None = None,
    padding: int = 0,
    dilation: int = 1,
    ceil_mode: bool = False,
    avg: bool = False,
) -> int:
    """Output length of PyTorch's ``max_pool1d`` (``avg_pool1d`` if ``avg``).

    Raises PyTorch's ``RuntimeError`` for a layer PyTorch refuses."""
    if n < 1 or kernel < 1:
        raise RuntimeError(f"empty input or kernel (n={n}, kernel={kernel})")
    x, step = torch.zeros(1, 1, n), [] if stride is None else [stride]
    if avg:
        if dilation != 1:
            raise RuntimeError("avg_pool has no dilation")
        return int(_AVG_POOL1D(x, [kernel], step, [padding], ceil_mode, True).shape[-1])
    return int(_MAX_POOL1D(x, [kernel], step, [padding], [dilation], ceil_mode).shape[-1])


@functools.lru_cache(maxsize=4096)
def torch_transpose_size(
    n: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    output_padding: int = 0,
    dilation: int = 1,
) -> int:
    """Output length of PyTorch's ``conv_transpose1d``; ``RuntimeError`` if refused."""
    if n < 1 or kernel < 1:
        raise RuntimeError(f"empty input or kernel (n={n}, kernel={kernel})")
    x, w = torch.zeros(1, 1, n), torch.zeros(1, 1, kernel)
    out = _CONV_TRANSPOSE1D(x, w, None, stride, padding, output_padding, 1, dilation)
    return int(out.shape[-1])


def _layer_parameter_count(layer: nn.Module) -> int:
    """Parameters of a layer from its weight and bias tensors (works inside forbid(parameters))."""
    return sum(p.numel() for p in (layer.weight, layer.bias) if p is not None)


@functools.lru_cache(maxsize=4096)
def torch_conv_params(
    c_in: int, c_out: int, kernel: Any, groups: int = 1, bias: bool = True
) -> int:
    """Parameters of ``nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias)``, measured."""
    layer = nn.Conv2d(c_in, c_out, kernel, groups=groups, bias=bias, device="meta")
    return _layer_parameter_count(layer)


@functools.lru_cache(maxsize=4096)
def torch_linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Parameters of ``nn.Linear(n_in, n_out, bias=bias)``, measured."""
    return _layer_parameter_count(nn.Linear(n_in, n_out, bias=bias, device="meta"))


def stack_parameters(layers: Sequence[nn.Module]) -> int:
    """Total number of parameters of ``layers``, read from PyTorch."""
    return sum(p.numel() for layer in layers for p in layer.parameters())


def run_shapes(layers: Sequence[nn.Module], input_shape: Sequence[int]) -> list[tuple[int, ...]]:
    """Each layer's output shape (no batch dimension) when PyTorch runs ``layers`` on zeros."""
    x, shapes = torch.zeros(1, *input_shape), []
    with torch.no_grad():
        for layer in layers:
            x = layer(x)
            shapes.append(tuple(int(s) for s in x.shape[1:]))
    return shapes


# ---------------------------------------------------------------------------------------------
# Oracles with the students' signatures: they stand in for earlier answers in later questions


def _refused(err: RuntimeError) -> ValueError:
    return ValueError(f"PyTorch refuses this layer: {str(err).splitlines()[0]}")


def oracle_conv_output_size(n, kernel, stride=1, padding=0, dilation=1):
    """q1's function, measured with PyTorch (ValueError where PyTorch refuses the layer)."""
    try:
        return torch_conv_size(int(n), int(kernel), int(stride), int(padding), int(dilation))
    except RuntimeError as err:
        raise _refused(err) from None


def oracle_pool_output_size(n, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    """q2's pooling size, measured with PyTorch's max_pool1d."""
    stride = None if stride is None else int(stride)
    args = (int(n), int(kernel), stride, int(padding), int(dilation), bool(ceil_mode))
    try:
        return torch_pool_size(*args)
    except RuntimeError as err:
        raise _refused(err) from None


def oracle_conv_transpose_output_size(n, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    """q2's transposed-convolution size, measured with PyTorch."""
    args = (int(n), int(kernel), int(stride), int(padding), int(output_padding), int(dilation))
    try:
        return torch_transpose_size(*args)
    except RuntimeError as err:
        raise _refused(err) from None


def oracle_conv2d_params(c_in, c_out, kernel, groups=1, bias=True):
    """q3's convolution count, read from a PyTorch layer."""
    kernel = tuple(int(k) for k in kernel) if isinstance(kernel, (tuple, list)) else int(kernel)
    return torch_conv_params(int(c_in), int(c_out), kernel, int(groups), bool(bias))


def oracle_linear_params(n_in, n_out, bias=True):
    """q3's dense count, read from a PyTorch layer."""
    return torch_linear_params(int(n_in), int(n_out), bool(bias))


EARLIER_ANSWERS: dict[str, Callable[..., Any]] = {
    "conv_output_size": oracle_conv_output_size,
    "pool_output_size": oracle_pool_output_size,
    "conv_transpose_output_size": oracle_conv_transpose_output_size,
    "conv2d_params": oracle_conv2d_params,
    "linear_params": oracle_linear_params,
}


@contextmanager
def earlier_answers_replaced(
    *functions: Callable[..., Any], answers: dict[str, Callable[..., Any]] | None = None
) -> Iterator[None]:
    """Within the block, the notebook's q1-q3 functions are PyTorch measurements.

    The names of :data:`EARLIER_ANSWERS` are bound in the globals of ``functions`` (the
    student's notebook), whether the notebook defines them or not (an earlier cell that did not
    run, a syntax error in it, defines nothing), and restored or removed again on exit, so a
    later question's function that calls them is graded on its own logic only. ``answers``:
    what to bind instead of :data:`EARLIER_ANSWERS` (the referee's stand-ins for them).
    """
    answers = EARLIER_ANSWERS if answers is None else answers
    bound: dict[int, tuple[dict[str, Any], dict[str, Any]]] = {}
    for fn in functions:
        namespace = getattr(fn, "__globals__", None)
        if isinstance(namespace, dict) and id(namespace) not in bound:
            # never the function under test itself
            oracles = {n: o for n, o in answers.items() if namespace.get(n) is not fn}
            bound[id(namespace)] = (namespace, oracles)
    with ExitStack() as stack:
        for namespace, oracles in bound.values():
            stack.enter_context(substitute(namespace, **oracles))
        yield


def run_replaced(
    fn: Callable[..., Any],
    forbidden: Sequence[str],
    reason: str,
    count_lines: bool,
    args: tuple,
    kwargs: dict[str, Any],
    answers: dict[str, Callable[..., Any]] | None = None,
) -> Any:
    """``fn(*args, **kwargs)`` with the earlier answers replaced by ``answers``
    (:func:`earlier_answers_replaced`) and ``forbidden`` refused; with ``count_lines``,
    :func:`python_lines`' ``(lines, result)``.

    Run where ``fn`` lives (:func:`replaced_call`): only there are ``fn``'s globals the notebook's
    and do the refusals see every way the student's code reaches a library function.
    """
    with earlier_answers_replaced(fn, answers=answers), forbid(*forbidden, reason=reason):
        if count_lines:
            return python_lines(fn, *args, **kwargs)
        return fn(*args, **kwargs)


def replaced_call(
    fn: Callable[..., Any],
    args: tuple,
    kwargs: dict[str, Any],
    *,
    forbidden: Sequence[str],
    reason: str,
    count_lines: bool = False,
) -> Any:
    """:func:`run_replaced` beside ``fn``: in the student's kernel when grading runs the tests in
    the referee (``fn`` a proxy), else right here. What it returns is the student's output (or
    the lines their code ran), for the test to judge. Under the referee the earlier answers are
    its stand-ins (:func:`shared.testing.stand_in`): the PyTorch measurements run there."""
    answers = {name: stand_in(fn, oracle, name) for name, oracle in EARLIER_ANSWERS.items()}
    return run_beside(
        fn, run_replaced, fn, tuple(forbidden), reason, count_lines, args, kwargs, answers
    )


# ---------------------------------------------------------------------------------------------
# q1: conv_output_size and ceil_counterexample


class ConvCase(NamedTuple):
    n: int
    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    @property
    def label(self) -> str:
        return f"conv_output_size({_args(**self._asdict())})"


def _draw(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    """An int in the half-open range ``bounds``."""
    return int(rng.integers(*bounds))


def conv_cases(
    seed: int,
    count: int,
    *,
    n: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    fixed: Sequence[tuple[int, ...]] = (),
) -> list[ConvCase]:
    """``fixed`` cases, then random layers PyTorch accepts (half-open ranges) up to ``count``."""
    cases = [ConvCase(*case) for case in fixed]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        case = ConvCase(*(_draw(rng, b) for b in (n, kernel, stride, padding, dilation)))
        try:
            torch_conv_size(*case)
        except RuntimeError:
            continue
        cases.append(case)
    return cases


def conv_size_hint(case: ConvCase, got: int) -> str:
    """The likely mistake behind ``got``, from what it equals."""
    n, k, s, p, d = case
    span = n + 2 * p - d * (k - 1) - 1
    hints = []
    if got == -(-span // s) + 1:
        hints.append(
            tagged(
                "conv.size_ceil",
                "you round up (ceil); PyTorch rounds down (floor, //): a window that would stick "
                "out past the padded input is not computed",
            )
        )
    if d > 1 and got == (n + 2 * p - k) // s + 1:
        hints.append(
            tagged(
                "conv.size_dilation",
                "the dilation is ignored: a kernel of size k with dilation d spans d(k-1)+1 inputs",
            )
        )
    if p > 0 and got == (n + p - d * (k - 1) - 1) // s + 1:
        hints.append(
            tagged(
                "conv.size_padding_once",
                "padding is added on both sides, so the padded length is n + 2P",
            )
        )
    if got == span // s:
        hints.append(
            tagged("conv.size_plus_one", "you forgot the + 1 that counts the first window")
        )
    if s > 1 and got == span + 1:
        hints.append(
            tagged(
                "conv.size_stride", "the stride is ignored: the window moves S positions at a time"
            )
        )
    return "Hint: " + (
        "; ".join(hints)
        if hints
        else tagged(
            "conv.size_formula",
            "out = floor((n + 2P - d(k-1) - 1) / S) + 1, with integer division //.",
        )
    )


def check_conv_output_size(conv_output_size: Callable[..., Any], cases: Sequence[ConvCase]) -> None:
    """Compare ``conv_output_size`` with PyTorch's conv1d on every case (all valid layers)."""
    for index, case in enumerate(cases):
        expected = torch_conv_size(*case)
        got = call(
            conv_output_size,
            case.n,
            case.kernel,
            stride=case.stride,
            padding=case.padding,
            dilation=case.dilation,
            label=case.label,
            hint=lambda exc, e=expected: (
                f"PyTorch accepts this layer and gives {e}; the kernel fits when "
                "d(k-1)+1 <= n + 2P, and only impossible layers raise ValueError."
                if isinstance(exc, ValueError)
                else "compute the size with integer arithmetic from the arguments."
            ),
        )
        if index == 0:
            got = expect_int(got, case.label)
        assert got == expected, (
            f"{case.label} returned {got!r}, but PyTorch's conv1d gives {expected}. "
            f"{conv_size_hint(case, got)}"
        )


def check_conv_errors(
    conv_output_size: Callable[..., Any],
    refused: Sequence[tuple[dict[str, int], tuple[str, ...]]],
    fits: Sequence[dict[str, int]] = (),
) -> None:
    """Each ``refused`` layer must raise ValueError naming one of its argument names; each of
    ``fits`` (a layer that just fits) must return PyTorch's size."""
    for kwargs, names in refused:
        full = {"stride": 1, "padding": 0, "dilation": 1} | kwargs
        label = f"conv_output_size({_args(**kwargs)})"
        try:
            torch_conv_size(
                full["n"], full["kernel"], full["stride"], full["padding"], full["dilation"]
            )
        except RuntimeError as err:
            torch_says = str(err).splitlines()[0]
        else:
            raise AssertionError(f"test error: PyTorch accepts {label}")
        try:
            got = conv_output_size(**kwargs)
        except ValueError as err:
            assert any(name in str(err) for name in names), tagged(
                "conv.size_error_names",
                f"{label} raised ValueError({str(err)!r}); the message should name the bad "
                f"argument ({' or '.join(repr(x) for x in names)}). Hint: say which argument is "
                f'wrong, e.g. raise ValueError(f"{names[0]} must be ..., got {names[0]}=...").',
            )
            continue
        except Exception as err:  # noqa: BLE001 - a crash of student code is a test failure
            raise AssertionError(
                tagged(
                    "conv.size_error_type",
                    f"{label} raised {type(err).__name__}({err}) instead of ValueError. PyTorch "
                    f"refuses this layer: {torch_says}. Hint: check the arguments first and raise "
                    "ValueError before computing anything.",
                )
            ) from None
        hint_id, when = {
            "stride": ("conv.refuse_stride", "stride < 1."),
            "padding": ("conv.refuse_padding", "padding < 0."),
            "dilation": ("conv.refuse_dilation", "dilation < 1."),
            "kernel": (
                "conv.refuse_kernel",
                "kernel < 1 or the effective kernel d(k-1)+1 is larger than n + 2P.",
            ),
        }[names[0]]
        check_implemented(got, label)  # the untouched stub: not a missing refusal
        raise AssertionError(
            tagged(
                hint_id,
                f"{label} returned {got!r}, but this layer is impossible and PyTorch refuses it: "
                f"{torch_says}. Hint: raise ValueError naming {names[0]!r} when {when}",
            )
        )
    for kwargs in fits:
        full = {"stride": 1, "padding": 0, "dilation": 1} | kwargs
        expected = torch_conv_size(
            full["n"], full["kernel"], full["stride"], full["padding"], full["dilation"]
        )
        label = f"conv_output_size({_args(**kwargs)})"
        got = call(
            conv_output_size,
            **kwargs,
            label=label,
            hint=tagged(
                "conv.size_just_fits",
                f"this layer just fits (PyTorch gives {expected}): it is impossible only when "
                "d(k-1)+1 > n + 2P, strictly.",
            ),
        )
        assert got == expected, (
            f"{label} should be {expected} (the kernel just fits), got {got!r}. "
            f"{conv_size_hint(ConvCase(**full), got)}"
        )


def check_ceil_counterexample(ceil_counterexample: Callable[[], Any]) -> None:
    """The returned layer is valid and the slide's ceiling formula disagrees with PyTorch there."""
    example = call(ceil_counterexample, label="ceil_counterexample()")
    assert isinstance(example, (tuple, list)) and len(example) == 4, (
        f"ceil_counterexample() should return a tuple (n, kernel, stride, padding), got {example!r}"
    )
    try:
        n, k, s, p = (int(v) for v in example)
    except (TypeError, ValueError):
        raise AssertionError(
            "ceil_counterexample() should return four ints (n, kernel, stride, padding), got "
            f"{example!r}"
        ) from None
    try:
        torch_size = torch_conv_size(n, k, s, p)
    except RuntimeError as err:
        raise AssertionError(
            tagged(
                "conv.counterexample_invalid",
                f"ceil_counterexample() returned n={n}, kernel={k}, stride={s}, padding={p}, "
                f"which is not a valid layer (PyTorch: {str(err).splitlines()[0]}). Hint: the "
                "kernel must fit into the padded input, k <= n + 2P, the stride be at least 1 and "
                "the padding >= 0.",
            )
        ) from None
    slide = math.ceil((n - k + 2 * p) / s) + 1
    assert slide != torch_size, tagged(
        "conv.counterexample_agrees",
        f"For n={n}, kernel={k}, stride={s}, padding={p} the slide's ceiling formula gives "
        f"{slide} and PyTorch also gives {torch_size}: not a counterexample. Hint: the two agree "
        "whenever S divides n + 2P - k; try stride 2 with an odd n + 2P - k.",
    )


# ---------------------------------------------------------------------------------------------
# q2: pool_output_size and conv_transpose_output_size


class PoolCase(NamedTuple):
    n: int
    kernel: int
    stride: int | None = None
    padding: int = 0
    dilation: int = 1
    ceil_mode: bool = False
    avg: bool = False

    @property
    def label(self) -> str:
        args = self._asdict()
        args.pop("avg")
        return f"pool_output_size({_args(**args)})"

    @property
    def layer(self) -> str:
        if self.avg:
            return (
                f"nn.AvgPool1d({self.kernel}, stride={self.stride}, padding={self.padding}, "
                f"ceil_mode={self.ceil_mode})"
            )
        return (
            f"nn.MaxPool1d({self.kernel}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode})"
        )


def pool_cases(
    seed: int,
    count: int,
    *,
    n: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    p_default_stride: float,
    p_ceil: float,
    p_avg: float = 0.0,
    fixed: Sequence[tuple[Any, ...]] = (),
) -> list[PoolCase]:
    """``fixed`` cases, then random poolings PyTorch accepts up to ``count``: the padding is at
    most kernel // 2, the stride ``None`` with probability ``p_default_stride``, and so on."""
    cases = [PoolCase(*case) for case in fixed]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        k = _draw(rng, kernel)
        case = PoolCase(
            _draw(rng, n),
            k,
            None if rng.random() < p_default_stride else _draw(rng, stride),
            int(rng.integers(0, k // 2 + 1)),
            _draw(rng, dilation),
            bool(rng.random() < p_ceil),
            bool(rng.random() < p_avg),
        )
        if case.avg:
            case = case._replace(dilation=1)
        try:
            torch_pool_size(*case)
        except RuntimeError:
            continue  # PyTorch refuses it (an output size below 1)
        cases.append(case)
    return cases


def pool_size_hint(case: PoolCase, got: int) -> str:
    """The likely mistake behind ``got``, from what it equals."""
    n, k, s, p, d, ceil, _ = case
    step = k if s is None else s
    span = n + 2 * p - d * (k - 1) - 1
    hints = []
    if s is None and got == span + 1:
        hints.append(
            tagged(
                "conv.pool_stride_default",
                "stride=None means the stride defaults to kernel_size, not 1",
            )
        )
    if ceil and got == -(-span // step) + 1:
        hints.append(
            tagged(
                "conv.pool_last_window",
                "PyTorch's last-window rule: in ceil_mode the last window must start inside the "
                "input or the left padding; if (out - 1) * stride >= n + padding, drop it",
            )
        )
    if ceil and got == span // step + 1:
        hints.append(tagged("conv.pool_ceil_mode", "ceil_mode=True rounds the division up"))
    if not ceil and got == -(-span // step) + 1:
        hints.append(
            tagged("conv.pool_floor", "without ceil_mode pooling rounds down, like a convolution")
        )
    if d > 1 and got in (torch_size_or_none(n, k, s, p, 1, ceil),):
        hints.append(
            tagged(
                "conv.pool_dilation", "the dilation is ignored: the window spans d(k-1)+1 inputs"
            )
        )
    return "Hint: " + (
        "; ".join(hints)
        if hints
        else tagged(
            "conv.pool_formula",
            "out = floor (or, with ceil_mode, ceil) of (n + 2P - d(k-1) - 1) / S, plus 1.",
        )
    )


def torch_size_or_none(*case: Any) -> int | None:
    """``torch_pool_size(*case)``, or None where PyTorch refuses the layer."""
    try:
        return torch_pool_size(*case)
    except RuntimeError:
        return None


def check_pool_output_size(pool_output_size: Callable[..., Any], cases: Sequence[PoolCase]) -> None:
    """Compare ``pool_output_size`` with PyTorch's max_pool1d / avg_pool1d on every case."""
    for index, case in enumerate(cases):
        expected = torch_pool_size(*case)
        got = call(
            pool_output_size,
            case.n,
            case.kernel,
            stride=case.stride,
            padding=case.padding,
            dilation=case.dilation,
            ceil_mode=case.ceil_mode,
            label=case.label,
            hint="every configuration in the tests is one PyTorch accepts; stride=None means "
            "stride=kernel.",
        )
        if index == 0:
            got = expect_int(got, case.label)
        assert got == expected, (
            f"{case.label} returned {got!r}, but PyTorch's {case.layer} gives {expected}. "
            f"{pool_size_hint(case, got)}"
        )


class TransposeCase(NamedTuple):
    n: int
    kernel: int
    stride: int = 1
    padding: int = 0
    output_padding: int = 0
    dilation: int = 1

    @property
    def label(self) -> str:
        return f"conv_transpose_output_size({_args(**self._asdict())})"


def transpose_cases(
    seed: int,
    count: int,
    *,
    n: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    fixed: Sequence[tuple[int, ...]] = (),
) -> list[TransposeCase]:
    """``fixed`` cases, then random transposed convolutions PyTorch accepts up to ``count``
    (output_padding below max(stride, dilation))."""
    cases = [TransposeCase(*case) for case in fixed]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        nn_, k, s, p, d = (_draw(rng, b) for b in (n, kernel, stride, padding, dilation))
        case = TransposeCase(nn_, k, s, p, int(rng.integers(0, max(s, d))), d)
        try:
            torch_transpose_size(*case)
        except RuntimeError:
            continue
        cases.append(case)
    return cases


def transpose_size_hint(case: TransposeCase, got: int, expected: int) -> str:
    """The likely mistake behind ``got``."""
    n, k, s, p, op, d = case
    hints = []
    if op and got == expected - op:
        hints.append(tagged("conv.transpose_output_padding", "you left out output_padding"))
    if d > 1 and got == expected - (d - 1) * (k - 1):
        hints.append(
            tagged(
                "conv.transpose_dilation",
                "you left out the dilation: the kernel spans d(k-1)+1 outputs",
            )
        )
    if p and got == expected + p:
        hints.append(tagged("conv.transpose_padding_once", "padding is removed on both sides: -2P"))
    if p and got == expected + 4 * p:
        hints.append(
            tagged(
                "conv.transpose_padding_sign",
                "a transposed convolution removes the padding (-2P), it does not add it",
            )
        )
    if s > 1 and got == expected - (n - 1) * (s - 1):
        hints.append(tagged("conv.transpose_stride", "the inputs are placed S apart: (n - 1)S"))
    return "Hint: " + (
        "; ".join(hints)
        if hints
        else tagged("conv.transpose_formula", "out = (n - 1)S - 2P + d(k-1) + output_padding + 1.")
    )


def check_conv_transpose_output_size(
    conv_transpose_output_size: Callable[..., Any], cases: Sequence[TransposeCase]
) -> None:
    """Compare ``conv_transpose_output_size`` with PyTorch's conv_transpose1d on every case."""
    for index, case in enumerate(cases):
        expected = torch_transpose_size(*case)
        got = call(
            conv_transpose_output_size,
            case.n,
            case.kernel,
            stride=case.stride,
            padding=case.padding,
            output_padding=case.output_padding,
            dilation=case.dilation,
            label=case.label,
            hint="every configuration in the tests is one PyTorch accepts.",
        )
        if index == 0:
            got = expect_int(got, case.label)
        assert got == expected, (
            f"{case.label} returned {got!r}, but PyTorch's conv_transpose1d gives {expected}. "
            f"{transpose_size_hint(case, got, expected)}"
        )


# ---------------------------------------------------------------------------------------------
# q3: conv2d_params and linear_params


class ConvParamCase(NamedTuple):
    c_in: int
    c_out: int
    kernel: int | tuple[int, int]
    groups: int = 1
    bias: bool = True

    @property
    def label(self) -> str:
        return f"conv2d_params({_args(**self._asdict())})"


class LinearParamCase(NamedTuple):
    n_in: int
    n_out: int
    bias: bool = True

    @property
    def label(self) -> str:
        return f"linear_params({_args(**self._asdict())})"


def conv_param_cases(
    seed: int,
    count: int,
    *,
    groups: Sequence[int],
    per_group: tuple[int, int],
    kernel: tuple[int, int],
    p_pair: float,
    p_bias: float,
) -> list[ConvParamCase]:
    """Random convolutions: channels are multiples of a group count drawn from ``groups``."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(count):
        g = int(rng.choice(groups))
        c_in, c_out = g * _draw(rng, per_group), g * _draw(rng, per_group)
        k = (
            (_draw(rng, kernel), _draw(rng, kernel))
            if rng.random() < p_pair
            else _draw(rng, kernel)
        )
        cases.append(ConvParamCase(c_in, c_out, k, g, bool(rng.random() < p_bias)))
    return cases


def linear_param_cases(
    seed: int, count: int, *, n_in: tuple[int, int], n_out: tuple[int, int], p_bias: float
) -> list[LinearParamCase]:
    rng = np.random.default_rng(seed)
    return [
        LinearParamCase(_draw(rng, n_in), _draw(rng, n_out), bool(rng.random() < p_bias))
        for _ in range(count)
    ]


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def conv_params_hint(case: ConvParamCase, got: Any, want: int) -> str:
    """The likely mistake behind a wrong convolution count, from what ``got`` equals."""
    c_in, c_out, kernel, groups, bias = case
    kh, kw = _pair(kernel)
    biases = c_out if bias else 0
    weights = want - biases
    hints = []
    if got == 2 * want:
        hints.append(
            tagged(
                "conv.params_twice",
                "your count is exactly twice PyTorch's: something is counted twice",
            )
        )
    if bias and got == weights:
        hints.append(tagged("conv.params_bias", "count the bias: one per output channel (filter)"))
    if not bias and got == want + c_out:
        hints.append(tagged("conv.params_no_bias", "with bias=False the layer has no bias"))
    if bias and got == weights + 1:
        hints.append(
            tagged("conv.params_bias_once", "one bias per filter (C_out of them), not one in total")
        )
    if c_in // groups != 1 and got == (kh * kw) * c_out + biases:
        hints.append(
            tagged(
                "conv.params_c_in",
                "each filter spans C_in / groups input channels: leaving C_in out counts a single "
                "channel",
            )
        )
    if groups > 1 and got == weights * groups + biases:
        hints.append(
            tagged("conv.params_groups", "with groups=g each filter reads only C_in / g channels")
        )
    per_tap = weights // (kh * kw)  # C_in / groups * C_out
    if kh != kw and got in (kh * kh * per_tap + biases, kw * kw * per_tap + biases):
        hints.append(
            tagged(
                "conv.params_kernel_pair",
                "a (k_h, k_w) kernel has k_h * k_w taps: use both entries",
            )
        )
    return "Hint: " + (
        "; ".join(hints)
        if hints
        else tagged(
            "conv.params_formula", "(k_h k_w C_in / groups + 1) C_out, the +1 only with bias."
        )
    )


def linear_params_hint(case: LinearParamCase, got: Any, want: int) -> str:
    """The likely mistake behind a wrong dense count, from what ``got`` equals."""
    n_in, n_out, bias = case
    hints = []
    if got == 2 * want:
        hints.append(
            tagged(
                "conv.dense_twice",
                "your count is exactly twice PyTorch's: something is counted twice",
            )
        )
    if bias and got == want - n_out:
        hints.append(tagged("conv.dense_bias", "count the biases: one per output unit"))
    if not bias and got == want + n_out:
        hints.append(tagged("conv.dense_no_bias", "with bias=False the layer has no biases"))
    if bias and n_out > 1 and got == want - n_out + 1:
        hints.append(
            tagged(
                "conv.dense_bias_once", "one bias per output unit (n_out of them), not one in total"
            )
        )
    if bias and n_in != n_out and got == want - n_out + n_in:
        hints.append(
            tagged("conv.dense_bias_n_in", "one bias per output unit: n_out biases, not n_in")
        )
    return "Hint: " + (
        "; ".join(hints)
        if hints
        else tagged("conv.dense_formula", "(n_in + 1) n_out with a bias, n_in n_out without.")
    )


def check_conv2d_params(
    conv2d_params: Callable[..., Any], cases: Sequence[ConvParamCase], *, what: str = ""
) -> None:
    """Compare ``conv2d_params`` with the parameters of ``nn.Conv2d`` on every case."""
    for case in cases:
        want = torch_conv_params(*case)
        got = call(
            conv2d_params,
            case.c_in,
            case.c_out,
            case.kernel,
            groups=case.groups,
            bias=case.bias,
            label=case.label,
            hint="kernel is an int or a pair (as_pair turns either into a pair).",
        )
        layer = (
            f"nn.Conv2d({case.c_in}, {case.c_out}, {case.kernel}, groups={case.groups}, "
            f"bias={case.bias})"
        )
        assert got == want, (
            f"{case.label} returned {got!r}, but {layer}{what} has {want:,} parameters. "
            f"{conv_params_hint(case, got, want)}"
        )


def check_linear_params(
    linear_params: Callable[..., Any], cases: Sequence[LinearParamCase], *, what: str = ""
) -> None:
    """Compare ``linear_params`` with the parameters of ``nn.Linear`` on every case."""
    for case in cases:
        want = torch_linear_params(*case)
        got = call(linear_params, case.n_in, case.n_out, bias=case.bias, label=case.label, hint="")
        layer = f"nn.Linear({case.n_in}, {case.n_out}, bias={case.bias})"
        assert got == want, (
            f"{case.label} returned {got!r}, but {layer}{what} has {want:,} parameters. "
            f"{linear_params_hint(case, got, want)}"
        )


# ---------------------------------------------------------------------------------------------
# q4: trace_shapes and count_stack_parameters


class Stack(NamedTuple):
    input_shape: tuple[int, ...]
    layers: list[nn.Module]
    shapes: list[tuple[int, ...]]  # PyTorch's output shape after each layer


def _random_layer(
    rng: np.random.Generator, channels: int, kind: str, o: dict[str, Any]
) -> nn.Module:
    def pair(bounds: tuple[int, int]) -> tuple[int, int]:
        return _draw(rng, bounds), _draw(rng, bounds)

    if kind == "conv":
        groups = int(rng.choice([1, 1, channels])) if o.get("groups") else 1
        return nn.Conv2d(
            channels,
            groups * _draw(rng, o["channels"]),
            pair(o["kernel"]),
            stride=pair(o["stride"]),
            padding=pair(o["padding"]),
            dilation=pair(o["dilation"]),
            groups=groups,
            bias=bool(rng.random() < o["p_bias"]),
        )
    if kind == "convT":
        stride = pair(o["stride"])
        dilation = pair(o["dilation"]) if o.get("transpose_dilation") else (1, 1)
        return nn.ConvTranspose2d(
            channels,
            _draw(rng, o["channels"]),
            pair(o["kernel"]),
            stride=stride,
            padding=pair(o["padding"]),
            dilation=dilation,
            output_padding=tuple(
                int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation, strict=True)
            ),
        )
    if kind in ("max", "avg"):
        k = pair(o["kernel"])
        stride = None if rng.random() < o["p_default_stride"] else pair(o["stride"])
        padding = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
        ceil = bool(rng.random() < o["p_ceil"])
        if kind == "avg":
            return nn.AvgPool2d(k, stride=stride, padding=padding, ceil_mode=ceil)
        dilation = pair(o["dilation"]) if o.get("pool_pair_dilation") else _draw(rng, o["dilation"])
        return nn.MaxPool2d(k, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil)
    if kind == "bn":
        return nn.BatchNorm2d(channels, affine=False)
    return {"relu": nn.ReLU, "tanh": nn.Tanh}[kind]()


def random_stacks(
    seed: int,
    count: int,
    *,
    kinds: Sequence[str],
    input_channels: tuple[int, int],
    size: tuple[int, int],
    depth: tuple[int, int],
    p_head: float,
    head_bias: float = 1.0,
    head_relu: bool = False,
    **options: Any,
) -> list[Stack]:
    """``count`` random stacks of layers that PyTorch runs, with PyTorch's shape after each.

    ``kinds`` lists the layer kinds to draw from (repeat one to draw it more often): ``conv``,
    ``convT``, ``max``, ``avg``, ``relu``, ``tanh``, ``bn``. ``options`` are the ranges the
    layers are drawn from: ``channels``, ``kernel``, ``stride``, ``padding``, ``dilation``
    (half-open), ``p_bias``, ``p_default_stride``, ``p_ceil``, and the flags ``groups``,
    ``transpose_dilation``, ``pool_pair_dilation``. With probability ``p_head`` a stack ends in
    ``Flatten`` and a ``Linear`` (and a ``ReLU`` if ``head_relu``).
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    stacks = []
    for _ in range(count):
        shape = (_draw(rng, input_channels), _draw(rng, size), _draw(rng, size))
        x = torch.zeros(1, *shape)
        layers, shapes = [], []
        with torch.no_grad():
            while len(layers) < _draw(rng, depth):
                layer = _random_layer(rng, x.shape[1], str(rng.choice(kinds)), options).eval()
                try:
                    y = layer(x)
                except RuntimeError:
                    continue  # PyTorch refuses it: draw another
                if y.shape[-1] < 1 or y.shape[-2] < 1:
                    continue
                layers.append(layer)
                shapes.append(tuple(int(s) for s in y.shape[1:]))
                x = y
            if rng.random() < p_head:
                features = int(x[0].numel())
                head = [
                    nn.Flatten(),
                    nn.Linear(features, _draw(rng, (1, 20)), bias=bool(rng.random() < head_bias)),
                ]
                if head_relu:
                    head.append(nn.ReLU())
                layers += head
                shapes += run_shapes(head, tuple(x.shape[1:]))
        stacks.append(Stack(shape, layers, shapes))
    return stacks


def stack_of(layers: Sequence[nn.Module], input_shape: Sequence[int]) -> Stack:
    """A :class:`Stack` of ``layers`` with PyTorch's shapes for ``input_shape``."""
    shape = tuple(int(s) for s in input_shape)
    return Stack(shape, list(layers), run_shapes(layers, shape))


def lecture_networks() -> dict[str, list[nn.Module]]:
    """The lecture's networks of section 4, on (1, 28, 28) inputs."""
    return {
        "the lecture's small CNN (1->16->32 convs, 1568->10 head)": [
            nn.Conv2d(1, 16, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(32 * 7 * 7, 10),
        ],
        "the lecture's CNN (1->32->64 convs, 3136->128->10 head)": [
            nn.Conv2d(1, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(64 * 7 * 7, 128),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(128, 10),
        ],
        "the lecture's MLP (784->512->32->10)": [
            nn.Flatten(),
            nn.Linear(784, 512),
            nn.ReLU(),
            nn.Linear(512, 32),
            nn.ReLU(),
            nn.Linear(32, 10),
        ],
    }


def check_lecture_networks(
    trace_shapes: Callable[..., Any], count_stack_parameters: Callable[..., Any]
) -> None:
    """Trace and count the lecture's networks on a (1, 28, 28) input."""
    for name, layers in lecture_networks().items():
        check_trace(trace_shapes, [stack_of(layers, (1, 28, 28))], name=f"{name}, (1, 28, 28)")
    for name, layers in lecture_networks().items():
        check_count(count_stack_parameters, [layers], name=name)


def _describe_layer(layer: nn.Module) -> str:
    described = str(layer)
    if isinstance(layer, nn.AvgPool2d):  # its repr leaves ceil_mode out
        described += f" with ceil_mode={layer.ceil_mode}"
    return described


def _shape_with(
    layer: nn.Module, before: tuple[int, ...], **changes: Any
) -> tuple[int, ...] | None:
    """PyTorch's output shape of a copy of ``layer`` with attributes changed, or None."""
    changed = copy.deepcopy(layer)
    for key, value in changes.items():
        setattr(changed, key, value)
    try:
        return run_shapes([changed], before)[0]
    except (RuntimeError, ValueError):
        return None


def trace_hint(
    layer: nn.Module, before: tuple[int, ...], want: tuple[int, ...], got: tuple[int, ...]
) -> str:
    """The likely mistake behind a wrong traced shape, from what ``got`` equals."""
    hints = []
    if isinstance(layer, SPATIAL) and len(want) == 3 and len(got) == 3:
        if got == (want[0], want[1], want[1]) and want[1] != want[2]:
            hints.append(
                tagged(
                    "conv.trace_width",
                    "the width is computed like the height: height and width are separate: use "
                    "kernel_size[1], stride[1], padding[1], ... for W",
                )
            )
        if got == (want[0], want[2], want[1]) and want[1] != want[2]:
            hints.append(
                tagged("conv.trace_swapped", "height and width are swapped: shapes are (C, H, W)")
            )
        if got[0] != want[0]:
            hints.append(
                tagged(
                    "conv.trace_channels",
                    "a convolution outputs out_channels channels"
                    if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d))
                    else "pooling keeps the number of channels",
                )
            )
        if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
            if layer.ceil_mode and got == _shape_with(layer, before, ceil_mode=False):
                hints.append(
                    tagged("conv.trace_ceil_mode", "pass the layer's ceil_mode to pool_output_size")
                )
            if isinstance(layer, nn.MaxPool2d) and got == _shape_with(layer, before, dilation=1):
                hints.append(
                    tagged(
                        "conv.trace_pool_dilation", "pass the layer's dilation to pool_output_size"
                    )
                )
        if isinstance(layer, nn.Conv2d) and got == _shape_with(layer, before, dilation=(1, 1)):
            hints.append(
                tagged("conv.trace_dilation", "pass the layer's dilation to conv_output_size")
            )
        if isinstance(layer, nn.ConvTranspose2d):
            if any(layer.output_padding) and got == _shape_with(
                layer, before, output_padding=(0, 0)
            ):
                hints.append(
                    tagged(
                        "conv.trace_output_padding",
                        "pass the layer's output_padding to conv_transpose_output_size",
                    )
                )
            as_conv = _shape_with(
                nn.Conv2d(
                    layer.in_channels,
                    layer.out_channels,
                    layer.kernel_size,
                    stride=layer.stride,
                    padding=layer.padding,
                    dilation=layer.dilation,
                ),
                before,
            )
            if got == as_conv:
                hints.append(
                    tagged(
                        "conv.trace_transpose",
                        "a ConvTranspose2d grows its input: use conv_transpose_output_size",
                    )
                )
    elif isinstance(layer, nn.Flatten):
        hints.append(tagged("conv.trace_flatten", "Flatten gives (C * H * W,)"))
    elif isinstance(layer, nn.Linear):
        hints.append(tagged("conv.trace_linear", "a Linear layer gives (out_features,)"))
    elif not isinstance(layer, SPATIAL):
        hints.append(tagged("conv.trace_unchanged", "this layer does not change the shape"))
    if not hints:
        hints.append(
            tagged(
                "conv.trace_formula",
                "height and width are separate: use kernel_size[0], stride[0], ... for H and [1] "
                "for W with the function of q1 or q2 that fits the layer",
            )
        )
    return "Hint: " + "; ".join(hints) + "."


def _traced(
    trace_shapes: Callable[..., Any], layers: list[nn.Module], shape: tuple[int, ...]
) -> Any:
    return replaced_call(
        trace_shapes, (layers, shape), {}, forbidden=LAYER_FORWARDS, reason=TRACE_REASON
    )


def check_trace(
    trace_shapes: Callable[..., Any], stacks: Sequence[Stack], *, name: str = ""
) -> None:
    """Compare ``trace_shapes`` with PyTorch's shapes, layer by layer, with calling a layer
    forbidden and q1-q2's functions replaced by PyTorch measurements."""
    for stack in stacks:
        shape, layers = stack.input_shape, stack.layers
        what = name or f"a stack of {len(layers)} layers on input {shape}"
        label = f"trace_shapes({what})"
        try:
            shapes = _traced(trace_shapes, layers, shape)
        except Exception as err:  # noqa: BLE001 - find the layer that makes it fail
            ends = range(1, len(layers))  # the shortest prefix that fails
            bad = next(
                (end for end in ends if _raises(trace_shapes, layers[:end], shape)), len(layers)
            )
            before = shape if bad == 1 else stack.shapes[bad - 2]
            raise AssertionError(
                tagged(
                    "conv.trace_valid_refused",
                    f"{label} raised {type(err).__name__}: {err}\nThe first layer that fails is "
                    f"layer {bad - 1}, {_describe_layer(layers[bad - 1])}, whose input has shape "
                    f"{before}; PyTorch runs it and gives {stack.shapes[bad - 1]}. Hint: only a "
                    "layer that does not fit its input should raise ValueError.",
                )
                + f"\n(the stack: {layers})"
            ) from None
        check_implemented(shapes, label)
        try:
            got = [tuple(int(v) for v in s) for s in shapes]
        except (TypeError, ValueError):
            raise AssertionError(
                f"{label} should return a list of shape tuples, got {shapes!r}"
            ) from None
        assert len(got) == len(layers), tagged(
            "conv.trace_shape_count",
            f"{label} returned {len(got)} shapes for {len(layers)} layers. Hint: one shape per "
            "layer, in order, the output shape of each.",
        )
        for index, (layer, mine, want) in enumerate(zip(layers, got, stack.shapes, strict=True)):
            before = shape if index == 0 else stack.shapes[index - 1]
            if mine != want:
                raise AssertionError(
                    f"{label}: layer {index}, {_describe_layer(layer)}, whose input has shape "
                    f"{before}: you give {mine}, PyTorch gives {want}. "
                    f"{trace_hint(layer, before, want, mine)}\n(the stack: {layers})"
                )


def _raises(
    trace_shapes: Callable[..., Any], layers: list[nn.Module], shape: tuple[int, ...]
) -> bool:
    try:
        _traced(trace_shapes, layers, shape)
    except Exception:  # noqa: BLE001
        return True
    return False


def count_hint(layers: Sequence[nn.Module], got: Any, want: int) -> str:
    """The likely mistake behind a wrong stack count, from what ``got`` equals."""
    counted = [
        layer for layer in layers if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
    ]
    biases = sum(layer.bias.numel() for layer in counted if layer.bias is not None)
    missing = sum(
        layer.out_channels
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d))
        else layer.out_features
        for layer in counted
        if layer.bias is None
    )
    hints = []
    if got == 2 * want:
        hints.append(
            tagged(
                "conv.count_twice",
                "your count is exactly twice PyTorch's: something is counted twice",
            )
        )
    if biases and got == want - biases:
        hints.append(
            tagged(
                "conv.count_bias",
                "count the biases (layer.bias is not None tells whether a layer has one)",
            )
        )
    if missing and got == want + missing:
        hints.append(
            tagged(
                "conv.count_no_bias",
                "a layer with bias=False has no bias: check layer.bias is not None",
            )
        )
    if not hints:
        hints.append(
            tagged(
                "conv.count_layers",
                "add conv2d_params (for Conv2d and ConvTranspose2d, with the layer's groups) and "
                "linear_params of every layer; ReLU, pooling, Dropout, BatchNorm without affine "
                "and Flatten have no parameters",
            )
        )
    return "Hint: " + "; ".join(hints) + "."


def check_count(
    count_stack_parameters: Callable[..., Any],
    stacks: Sequence[Sequence[nn.Module]],
    *,
    name: str = "",
) -> None:
    """Compare ``count_stack_parameters`` with PyTorch's parameter count of each stack, with
    ``Module.parameters`` forbidden and q3's functions replaced by PyTorch measurements."""
    for layers in stacks:
        want = stack_parameters(layers)
        label = f"count_stack_parameters({name or list(layers)})"
        got = call(
            count_stack_parameters,
            list(layers),
            label=label,
            forbid_while=(PARAMETER_LISTS, COUNT_REASON),
        )
        assert got == want, (
            f"{label} returned {got!r}, but the layers have {want:,} parameters. "
            f"{count_hint(layers, got, want)}"
        )


def check_trace_refuses(
    trace_shapes: Callable[..., Any], cases: Sequence[tuple[list[nn.Module], tuple[int, ...], str]]
) -> None:
    """Each ``(layers, input_shape, why)`` does not fit: ``trace_shapes`` must raise ValueError."""
    for layers, shape, why in cases:
        label = f"trace_shapes({layers}, {shape})"
        try:
            got = _traced(trace_shapes, layers, shape)
        except ValueError:
            continue
        except Exception as err:  # noqa: BLE001
            raise AssertionError(
                tagged(
                    "conv.refuse_crash",
                    f"{label} raised {type(err).__name__}({err}) instead of ValueError ({why}). "
                    "Hint: compare in_channels / in_features with the incoming shape, check that a "
                    "Linear gets a flat input and a Conv2d a (C, H, W) one, and let "
                    "conv_output_size's ValueError through.",
                )
            ) from None
        check_implemented(got, label)  # the untouched stub: not a missing refusal
        raise AssertionError(
            tagged(
                "conv.refuse_missing",
                f"{label} returned {got} but should raise ValueError: {why}. Hint: compare "
                "layer.in_channels / layer.in_features with the incoming shape, and check that a "
                "Linear gets a flat input and a Conv2d a (C, H, W) one.",
            )
        )


# ---------------------------------------------------------------------------------------------
# q5: receptive_field


def geometry(layers: Sequence[nn.Module]) -> list[tuple[int, int, int, int]]:
    """(kernel, stride, padding, dilation) along the height of each conv or pooling layer."""
    out = []
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p, d = (
                _pair(getattr(layer, name, 1))[0]
                for name in ("kernel_size", "stride", "padding", "dilation")
            )
            out.append((k, s, p, d))
    return out


def measure_receptive_field(
    geom: Sequence[tuple[int, int, int, int]], n: int = 1024
) -> tuple[int, int]:
    """(r, j) measured: each layer becomes a convolution of ones with its geometry; r is the
    number of input pixels with a non-zero gradient for the middle output unit, j the distance
    between the first pixels of two neighbouring units' fields."""
    x = torch.ones(1, 1, n, dtype=torch.float64, requires_grad=True)
    y = x
    for k, s, p, d in geom:
        y = _CONV1D(y, torch.ones(1, 1, k, dtype=torch.float64), None, s, p, d)
    middle = y.shape[-1] // 2
    fields = []
    for unit in (middle, middle + 1):
        (grad,) = torch.autograd.grad(y[0, 0, unit], x, retain_graph=True)
        seen = torch.nonzero(grad[0, 0]).flatten()
        fields.append((int(seen.min()), int(seen.max())))
    return fields[0][1] - fields[0][0] + 1, fields[1][0] - fields[0][0]


def receptive_field_hint(
    layers: Sequence[nn.Module], got: tuple[int, int], want: tuple[int, int], n: int
) -> str:
    """The likely mistake, from which modified geometry ``got`` matches."""
    geom = geometry(layers)
    kinds = [
        layer for layer in layers if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))
    ]
    convs_only = [g for g, layer in zip(geom, kinds, strict=True) if isinstance(layer, nn.Conv2d)]
    without = {
        "jump": measure_receptive_field([(k, 1, p, d) for k, s, p, d in geom], n),
        "dilation": measure_receptive_field([(k, s, p, 1) for k, s, p, d in geom], n),
        "pooling": measure_receptive_field(convs_only, n),
    }
    hints = []
    if got[0] != want[0] and got[0] == without["jump"][0]:
        hints.append(
            tagged(
                "conv.rf_jump",
                "each layer widens the field by d(k-1) times the accumulated stride (the jump) of "
                "the layers before it, not by d(k-1)",
            )
        )
    if got[0] != want[0] and got[0] == without["dilation"][0]:
        hints.append(
            tagged(
                "conv.rf_dilation", "a dilated kernel spans d(k-1)+1 units: the dilation is missing"
            )
        )
    if len(convs_only) < len(geom) and got == without["pooling"]:
        hints.append(
            tagged(
                "conv.rf_pooling",
                "a pooling layer widens the field like a convolution of the same size, and "
                "multiplies the jump by its stride",
            )
        )
    elif got[1] != want[1]:
        hints.append(
            tagged(
                "conv.rf_jump_product",
                "the jump is the product of the strides of all layers, pooling included",
            )
        )
    return "Hint: " + (
        "; ".join(hints)
        if hints
        else tagged(
            "conv.rf_formula", "r += d(k-1) * j, then j *= S, layer by layer (pooling too)."
        )
    )


def receptive_stacks(
    seed: int,
    count: int,
    *,
    depth: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    dilation: tuple[int, int],
    p_max: float,
    p_avg: float = 0.0,
    p_other: float = 0.3,
    max_total_stride: int = 16,
    channels: int = 1,
) -> list[list[nn.Module]]:
    """Random stacks of square convolutions and poolings with activations, batch norms or
    dropouts between them (probability ``p_other``)."""
    rng = np.random.default_rng(seed)
    stacks = []
    for _ in range(count):
        stack, total = [], 1
        for _ in range(_draw(rng, depth)):
            k, s, d = _draw(rng, kernel), _draw(rng, stride), _draw(rng, dilation)
            s = s if total * s <= max_total_stride else 1
            total *= s
            choice = rng.random()
            if choice < p_max:
                stack.append(
                    nn.MaxPool2d(
                        k,
                        stride=s,
                        padding=int(rng.integers(0, k // 2 + 1)),
                        dilation=d,
                        ceil_mode=bool(rng.random() < 0.5),
                    )
                )
            elif choice < p_max + p_avg:
                stack.append(nn.AvgPool2d(k, stride=s, padding=int(rng.integers(0, k // 2 + 1))))
            else:
                stack.append(
                    nn.Conv2d(
                        channels, channels, k, stride=s, padding=int(rng.integers(0, 4)), dilation=d
                    )
                )
            if rng.random() < p_other:
                stack.append(
                    [nn.ReLU(), nn.BatchNorm2d(channels), nn.Dropout(0.1)][int(rng.integers(0, 3))]
                )
        stacks.append(stack)
    return stacks


def check_receptive_field(
    receptive_field: Callable[..., Any], stacks: Sequence[Sequence[nn.Module]], *, n: int = 1024
) -> None:
    """Compare ``receptive_field`` with the measured (r, j) of every stack."""
    for stack in stacks:
        layers = list(stack)
        label = f"receptive_field({layers})"
        want = measure_receptive_field(geometry(layers), n)
        got = call(receptive_field, layers, label=label)
        assert isinstance(got, (tuple, list)) and len(got) == 2, (
            f"{label} should return a tuple (r, j), got {got!r}"
        )
        try:
            got = tuple(int(v) for v in got)
        except (TypeError, ValueError):
            raise AssertionError(f"{label} should return two ints (r, j), got {got!r}") from None
        assert got == want, (
            f"{label} returned (r, j) = {got}, but the measured field of one output unit is "
            f"{want[0]} pixels wide and neighbouring units' fields start {want[1]} pixels apart. "
            f"{receptive_field_hint(layers, got, want, n)}"
        )


# ---------------------------------------------------------------------------------------------
# q6: conv2d and max_pool2d from scratch


class Conv2dCase(NamedTuple):
    x_shape: tuple[int, int, int, int]
    w_shape: tuple[int, int, int, int]
    bias: bool
    stride: Any = 1
    padding: Any = 0
    dilation: Any = 1

    @property
    def label(self) -> str:
        return (
            f"conv2d(x of shape {self.x_shape}, w of shape {self.w_shape}, "
            f"b={'(C_out,)' if self.bias else None}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation})"
        )


class PoolCase2d(NamedTuple):
    x_shape: tuple[int, int, int, int]
    kernel_size: Any
    stride: Any = None
    padding: Any = 0

    @property
    def label(self) -> str:
        return (
            f"max_pool2d(x of shape {self.x_shape}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding})"
        )


def conv2d_cases(
    seed: int,
    count: int,
    *,
    batch: tuple[int, int],
    c_in: tuple[int, int],
    c_out: tuple[int, int],
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    p_bias: float,
    fixed: Sequence[tuple[Any, ...]] = (),
) -> list[Conv2dCase]:
    """``fixed`` cases, then random convolutions PyTorch accepts (pairs for stride, padding and
    dilation, sometimes ints) up to ``count``."""
    cases = [Conv2dCase(*case) for case in fixed]
    rng = np.random.default_rng(seed)

    def pair_or_int(bounds: tuple[int, int]) -> Any:
        return (
            _draw(rng, bounds) if rng.random() < 0.3 else (_draw(rng, bounds), _draw(rng, bounds))
        )

    while len(cases) < count:
        ci = _draw(rng, c_in)
        case = Conv2dCase(
            (_draw(rng, batch), ci, _draw(rng, size), _draw(rng, size)),
            (_draw(rng, c_out), ci, _draw(rng, kernel), _draw(rng, kernel)),
            bool(rng.random() < p_bias),
            pair_or_int(stride),
            pair_or_int(padding),
            pair_or_int(dilation),
        )
        try:
            _CONV2D(
                torch.zeros(case.x_shape),
                torch.zeros(case.w_shape),
                None,
                case.stride,
                case.padding,
                case.dilation,
            )
        except RuntimeError:
            continue
        cases.append(case)
    return cases


def max_pool2d_cases(
    seed: int,
    count: int,
    *,
    batch: tuple[int, int],
    channels: tuple[int, int],
    size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    p_default_stride: float,
    fixed: Sequence[tuple[Any, ...]] = (),
) -> list[PoolCase2d]:
    """``fixed`` cases, then random max-poolings PyTorch accepts up to ``count``."""
    cases = [PoolCase2d(*case) for case in fixed]
    rng = np.random.default_rng(seed)
    while len(cases) < count:
        k = (_draw(rng, kernel), _draw(rng, kernel))
        case = PoolCase2d(
            (_draw(rng, batch), _draw(rng, channels), _draw(rng, size), _draw(rng, size)),
            k,
            None if rng.random() < p_default_stride else (_draw(rng, stride), _draw(rng, stride)),
            (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1))),
        )
        try:
            _MAX_POOL2D(
                torch.zeros(case.x_shape),
                case.kernel_size,
                [] if case.stride is None else case.stride,
                case.padding,
                1,
                False,
            )
        except RuntimeError:
            continue
        cases.append(case)
    return cases


def _close(out: torch.Tensor, other: torch.Tensor) -> bool:
    return out.shape == other.shape and bool(
        torch.allclose(out, other, rtol=FLOAT64_RTOL * 10, atol=FLOAT64_ATOL * 10)
    )


def conv2d_hint(
    x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None, case: Conv2dCase, out: torch.Tensor
) -> str:
    """The likely mistake behind wrong values of the right shape, from what ``out`` equals."""
    s, p, d = _pair(case.stride), _pair(case.padding), _pair(case.dilation)
    c_out, c_in, kh, kw = w.shape
    hints = []
    if kh * kw > 1 and _close(out, _CONV2D(x, w.flip((-2, -1)), b, s, p, d)):
        hints.append(
            tagged(
                "conv.conv2d_flipped",
                "you flipped the kernel (a true convolution); PyTorch's conv2d is a "
                "cross-correlation and uses w as it is, with no flip",
            )
        )
    channels_last = w.permute(0, 2, 3, 1).reshape(c_out, c_in, kh, kw)
    if c_in > 1 and _close(out, _CONV2D(x, channels_last, b, s, p, d)):
        hints.append(
            tagged(
                "conv.conv2d_weight_order",
                "the weights are flattened in another order than the patches: unfold's patches are "
                "flattened in (C_in, k_h, k_w) order, like w.reshape(C_out, -1)",
            )
        )
    if kh == kw > 1 and _close(out, _CONV2D(x, w.transpose(-2, -1), b, s, p, d)):
        hints.append(
            tagged(
                "conv.conv2d_kernel_transposed",
                "the kernel is transposed: w[o, c, u, v] multiplies row u and column v of a patch",
            )
        )
    if b is not None and _close(out, _CONV2D(x, w, None, s, p, d)):
        hints.append(
            tagged("conv.conv2d_bias", "add the bias b[o] to every position of output channel o")
        )
    if not hints:
        hints.append(
            tagged(
                "conv.conv2d_formula",
                "out[n, o] = sum over (c, u, v) of w[o, c, u, v] * patch[c, u, v] + b[o]; unfold's "
                "patches are flattened in (C_in, k_h, k_w) order, like w.reshape(C_out, -1)",
            )
        )
    return "Hint: " + "; ".join(hints) + "."


def conv2d_shape_hint(
    x_shape: tuple[int, ...], w: torch.Tensor, case: Conv2dCase, got: tuple[int, ...]
) -> str:
    s, p, d = _pair(case.stride), _pair(case.padding), _pair(case.dilation)
    x = torch.zeros(x_shape, dtype=torch.float64)
    hints = []
    for what, (s2, p2, d2) in (
        (tagged("conv.conv2d_size_stride", "the stride is ignored"), ((1, 1), p, d)),
        (tagged("conv.conv2d_size_padding", "the padding is ignored"), (s, (0, 0), d)),
        (
            tagged(
                "conv.conv2d_size_dilation",
                "the dilation is ignored: the window spans d(k-1)+1 inputs",
            ),
            (s, p, (1, 1)),
        ),
        (
            tagged("conv.conv2d_size_swapped", "height and width settings are swapped"),
            (s[::-1], p[::-1], d[::-1]),
        ),
    ):
        if (s2, p2, d2) != (s, p, d):
            try:
                other = tuple(
                    _CONV2D(x, torch.zeros_like(w, dtype=torch.float64), None, s2, p2, d2).shape
                )
            except RuntimeError:
                continue
            if other == got:
                hints.append(what)
    hints.append(
        tagged(
            "conv.conv2d_size_formula",
            "H_out and W_out are conv_output_size of H and W with the height's and the width's "
            "settings; reshape the (N, C_out, L) product to (N, C_out, H_out, W_out)",
        )
    )
    return "Hint: " + "; ".join(hints) + "."


def _crash_hint(exc: BaseException) -> str:
    text = str(exc)
    if "asks you to implement this yourself" in text:
        return tagged(
            "conv.library_refused",
            "the library's convolutions and poolings are refused while your function runs, "
            "however your code reaches them (a name bound earlier too): build it from unfold, "
            "reshape and a matrix product.",
        )
    if "expanded size" in text or "must match the size" in text or "invalid for input" in text:
        return tagged(
            "conv.conv2d_shapes_mismatch",
            "two tensors' sizes do not fit together: after unfold the patches are "
            "(N, C_in*k_h*k_w, L) with L = H_out*W_out, the weights reshape to "
            "(C_out, C_in*k_h*k_w), and the bias broadcasts as (1, C_out, 1) or (1, C_out, 1, 1).",
        )
    if "reduction dim" in text or "zero-size" in text or "non-zero size" in text:
        return tagged(
            "conv.unfold_empty",
            "a window dimension is empty: unfold each spatial dimension with size = the (dilated) "
            "kernel and step = the stride (stride=None means kernel_size), after padding.",
        )
    if "dtype" in text or "Double" in text or "Float" in text:
        return tagged("conv.dtype", "keep every tensor you create in x's dtype (dtype=x.dtype).")
    return "run this call in your notebook to see where it fails."


def _generated(shape: Sequence[int], gen: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    return torch.randn(tuple(shape), generator=gen, dtype=torch.float64).to(dtype)


def check_conv2d(
    conv2d: Callable[..., Any],
    cases: Sequence[Conv2dCase],
    *,
    seed: int,
    dtype: torch.dtype = torch.float64,
) -> None:
    """Compare ``conv2d`` with PyTorch's conv2d on random inputs of ``dtype`` for every case,
    with the library convolutions forbidden and q1's function replaced by PyTorch's sizes."""
    gen = torch.Generator().manual_seed(seed)
    rtol, atol = (
        (FLOAT64_RTOL, FLOAT64_ATOL) if dtype == torch.float64 else (FLOAT32_RTOL, FLOAT32_ATOL)
    )
    for case in cases:
        x, w = _generated(case.x_shape, gen, dtype), _generated(case.w_shape, gen, dtype)
        b = _generated(case.w_shape[:1], gen, dtype) if case.bias else None
        expected = _CONV2D(x, w, b, _pair(case.stride), _pair(case.padding), _pair(case.dilation))
        label = case.label + ("" if dtype == torch.float64 else f" with {dtype} inputs")
        out = call(
            conv2d,
            x,
            w,
            b,
            stride=case.stride,
            padding=case.padding,
            dilation=case.dilation,
            label=label,
            hint=_crash_hint,
            forbid_while=(LIBRARY_CONV, CONV_REASON),
        )
        assert isinstance(out, torch.Tensor), (
            f"{label} should return a torch.Tensor, got {type(out).__name__}"
        )
        assert_shape(
            out,
            tuple(expected.shape),
            label,
            hint=conv2d_shape_hint(case.x_shape, w, case, tuple(out.shape)),
        )
        out = out.detach().cpu()
        hint = conv2d_hint(
            x.double(), w.double(), None if b is None else b.double(), case, out.double()
        )
        assert_close(out.double(), expected.double(), name=label, rtol=rtol, atol=atol, hint=hint)


def max_pool2d_hint(x: torch.Tensor, case: PoolCase2d, out: torch.Tensor) -> str:
    """The likely mistake behind wrong values of the right shape."""
    k, p = _pair(case.kernel_size), _pair(case.padding)
    s = k if case.stride is None else _pair(case.stride)
    hints = []
    if any(p):
        zero_padded = torch.nn.functional.pad(x, (p[1], p[1], p[0], p[0]))
        if _close(out, _MAX_POOL2D(zero_padded, k, s, (0, 0), 1, False)):
            hints.append(
                tagged(
                    "conv.maxpool_pad_inf",
                    "the padding wins the max: pad with -inf (F.pad(x, (pw, pw, ph, ph), "
                    "value=float('-inf'))), never with zeros",
                )
            )
    if _close(out, -_MAX_POOL2D(-x, k, s, p, 1, False)):
        hints.append(
            tagged(
                "conv.maxpool_min",
                "that is the minimum of each window; max-pooling keeps the largest value",
            )
        )
    if not any(p) and _close(out, _AVG_POOL2D(x, k, s, p, False, True)):
        hints.append(
            tagged(
                "conv.maxpool_mean",
                "that is the mean of each window; max-pooling keeps the largest value",
            )
        )
    if not hints:
        hints.append(
            tagged(
                "conv.maxpool_formula",
                "unfold the padded height (dim 2) and width (dim 3) with size = kernel and step = "
                "stride, then take amax over the last two dimensions",
            )
        )
    return "Hint: " + "; ".join(hints) + "."


def check_max_pool2d(
    max_pool2d: Callable[..., Any], cases: Sequence[PoolCase2d], *, seed: int, shift: float = -0.5
) -> None:
    """Compare ``max_pool2d`` with PyTorch's on random float64 inputs (shifted by ``shift``, so
    that zero padding would win some maxima), with the library poolings forbidden."""
    gen = torch.Generator().manual_seed(seed)
    for case in cases:
        x = _generated(case.x_shape, gen, torch.float64) + shift
        k, p = _pair(case.kernel_size), _pair(case.padding)
        s = [] if case.stride is None else _pair(case.stride)
        expected = _MAX_POOL2D(x, k, s, p, 1, False)
        out = call(
            max_pool2d,
            x,
            case.kernel_size,
            stride=case.stride,
            padding=case.padding,
            label=case.label,
            hint=_crash_hint,
            forbid_while=(LIBRARY_MAX_POOL, POOL_REASON),
        )
        assert isinstance(out, torch.Tensor), (
            f"{case.label} should return a torch.Tensor, got {type(out).__name__}"
            + (
                " (a tuple: keep only the values of max, not the indices)"
                if isinstance(out, tuple)
                else ""
            )
        )
        shape_hint = tagged(
            "conv.maxpool_size",
            "Hint: stride=None means stride=kernel_size; the size is pool_output_size of H and "
            "W, each with its own settings.",
        )
        assert_shape(out, tuple(expected.shape), case.label, hint=shape_hint)
        out = out.detach().cpu().double()
        assert_close(
            out,
            expected,
            name=case.label,
            rtol=FLOAT64_RTOL,
            atol=FLOAT64_ATOL,
            hint=max_pool2d_hint(x, case, out),
        )


def python_lines(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[int, Any]:
    """``(lines, result)``: how many lines of Python defined beside ``fn`` (the same globals: the
    notebook) run during ``fn(*args, **kwargs)``, and its result; library code is not counted."""
    namespace = getattr(fn, "__globals__", None)
    count = 0

    def local(frame, event, arg):  # noqa: ANN001, ARG001
        nonlocal count
        if event == "line":
            count += 1
        return local

    def scope(frame, event, arg):  # noqa: ANN001, ARG001
        return local if frame.f_globals is namespace else None

    previous = sys.gettrace()
    sys.settrace(scope)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.settrace(previous)
    return count, result


def check_no_position_loop(
    fn: Callable[..., Any],
    make_args: Callable[[int], tuple[tuple[Any, ...], dict[str, Any]]],
    *,
    name: str,
    small: int,
    large: int,
    forbidden: Sequence[str] = (),
    reason: str = "",
) -> None:
    """``fn`` must run as many Python lines for a ``large`` x ``large`` input as for a ``small``
    one (up to :data:`LOOP_SLACK`): a Python loop over output positions would run more."""
    counts = []
    for size in (small, large):
        args, kwargs = make_args(size)
        label = f"{name} on an input of {size}x{size}"
        try:
            lines, result = replaced_call(
                fn, args, kwargs, forbidden=forbidden, reason=reason, count_lines=True
            )
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(
                _hinted(f"{label} raised {type(exc).__name__}: {exc}", _crash_hint(exc))
            ) from None
        check_implemented(result, label)
        counts.append(lines)
    assert counts[1] <= counts[0] + LOOP_SLACK, tagged(
        "conv.loop_over_positions",
        f"{name} ran {counts[0]} lines of your Python code for a {small}x{small} input and "
        f"{counts[1]} for a {large}x{large} one, with the same batch, channels and kernel: a "
        "Python loop over output positions. Hint: the question asks for a vectorised version: "
        "build all windows at once with unfold and combine them with one matrix product (or amax).",
    )


def check_vectorised(conv2d: Callable[..., Any], max_pool2d: Callable[..., Any]) -> None:
    """Neither function loops in Python over output positions (4x4 against 24x24 inputs)."""
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(3, 2, 3, 3, generator=gen, dtype=torch.float64)
    b = torch.randn(3, generator=gen, dtype=torch.float64)

    def image(size: int) -> torch.Tensor:
        return torch.randn(1, 2, size, size, generator=gen, dtype=torch.float64)

    check_no_position_loop(
        conv2d,
        lambda size: ((image(size), w, b), {"padding": 1}),
        name="conv2d(x of shape (1, 2, n, n), w of shape (3, 2, 3, 3), b, padding=1)",
        small=4,
        large=24,
        forbidden=LIBRARY_CONV,
        reason=CONV_REASON,
    )
    check_no_position_loop(
        max_pool2d,
        lambda size: ((image(size), 2), {}),
        name="max_pool2d(x of shape (1, 2, n, n), 2)",
        small=4,
        large=24,
        forbidden=LIBRARY_MAX_POOL,
        reason=POOL_REASON,
    )
