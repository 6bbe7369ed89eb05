"""Unit tests of assignment 03's test library (shared.testing.conv_output_sizes)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.forbid import forbid
from shared.testing import conv_output_sizes as t

# A tiny "notebook": correct answers defined in a namespace of their own, as in a student's kernel,
# so that earlier_answers_replaced and python_lines see notebook globals.
NOTEBOOK = """
import math
import torch
import torch.nn.functional as F
from torch import nn


def as_pair(value):
    if isinstance(value, (tuple, list)):
        return int(value[0]), int(value[1])
    return int(value), int(value)


def conv_output_size(n, kernel, stride=1, padding=0, dilation=1):
    for name, value, low in (
        ("stride", stride, 1), ("padding", padding, 0), ("dilation", dilation, 1),
        ("kernel", kernel, 1),
    ):
        if value < low:
            raise ValueError(f"{name} too small")
    if dilation * (kernel - 1) + 1 > n + 2 * padding:
        raise ValueError("kernel does not fit")
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def pool_output_size(n, kernel, stride=None, padding=0, dilation=1, ceil_mode=False):
    stride = kernel if stride is None else stride
    span = n + 2 * padding - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return out - 1 if (out - 1) * stride >= n + padding else out


def conv_transpose_output_size(n, kernel, stride=1, padding=0, output_padding=0, dilation=1):
    return (n - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def conv2d_params(c_in, c_out, kernel, groups=1, bias=True):
    kh, kw = as_pair(kernel)
    return (kh * kw * (c_in // groups) + int(bias)) * c_out


def linear_params(n_in, n_out, bias=True):
    return (n_in + int(bias)) * n_out


def trace_shapes(layers, input_shape):
    shape, shapes = tuple(input_shape), []
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.MaxPool2d, nn.AvgPool2d)):
            if len(shape) != 3:
                raise ValueError("needs (C, H, W)")
            k, s, p = as_pair(layer.kernel_size), as_pair(layer.stride), as_pair(layer.padding)
            d = as_pair(getattr(layer, "dilation", 1))
            if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
                if layer.in_channels != shape[0]:
                    raise ValueError("channels")
            if isinstance(layer, nn.Conv2d):
                size = [conv_output_size(shape[1 + a], k[a], s[a], p[a], d[a]) for a in (0, 1)]
                channels = layer.out_channels
            elif isinstance(layer, nn.ConvTranspose2d):
                op = as_pair(layer.output_padding)
                size = [
                    conv_transpose_output_size(shape[1 + a], k[a], s[a], p[a], op[a], d[a])
                    for a in (0, 1)
                ]
                channels = layer.out_channels
            else:
                size = [
                    pool_output_size(shape[1 + a], k[a], s[a], p[a], d[a], layer.ceil_mode)
                    for a in (0, 1)
                ]
                channels = shape[0]
            shape = (channels, *size)
        elif isinstance(layer, nn.Flatten):
            shape = (math.prod(shape),)
        elif isinstance(layer, nn.Linear):
            if shape != (layer.in_features,):
                raise ValueError("features")
            shape = (layer.out_features,)
        shapes.append(shape)
    return shapes


def count_stack_parameters(layers):
    total = 0
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)):
            total += conv2d_params(
                layer.in_channels, layer.out_channels, layer.kernel_size, layer.groups,
                layer.bias is not None,
            )
        elif isinstance(layer, nn.Linear):
            total += linear_params(layer.in_features, layer.out_features, layer.bias is not None)
    return total


def receptive_field(layers):
    size, jump = 1, 1
    for layer in layers:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s = as_pair(layer.kernel_size)[0], as_pair(layer.stride)[0]
            d = as_pair(getattr(layer, "dilation", 1))[0]
            size, jump = size + d * (k - 1) * jump, jump * s
    return size, jump


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):
    (sh, sw), (ph, pw), (dh, dw) = as_pair(stride), as_pair(padding), as_pair(dilation)
    c_out, _, kh, kw = w.shape
    cols = F.unfold(x, (kh, kw), dilation=(dh, dw), padding=(ph, pw), stride=(sh, sw))
    h = conv_output_size(x.shape[2], kh, sh, ph, dh)
    wd = conv_output_size(x.shape[3], kw, sw, pw, dw)
    out = w.reshape(c_out, -1) @ cols
    if b is not None:
        out = out + b.reshape(1, -1, 1)
    return out.reshape(x.shape[0], c_out, h, wd)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    (kh, kw), (ph, pw) = as_pair(kernel_size), as_pair(padding)
    sh, sw = as_pair(kernel_size if stride is None else stride)
    padded = F.pad(x, (pw, pw, ph, ph), value=float("-inf"))
    return padded.unfold(2, kh, sh).unfold(3, kw, sw).amax(dim=(-2, -1))
"""


def notebook(*replacements: tuple[str, str]) -> dict:
    """The namespace of NOTEBOOK with each (find, replace) edit made first."""
    source = NOTEBOOK
    for find, replace in replacements:
        assert source.count(find) == 1, find
        source = source.replace(find, replace)
    namespace: dict = {"__name__": "notebook"}
    exec(compile(source, "<notebook>", "exec"), namespace)  # noqa: S102 - a test's own code
    return namespace


@pytest.fixture(scope="module")
def nb() -> dict:
    return notebook()


def fails(check, *args, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return str(info.value)


CONV_RANGES = dict(n=(1, 30), kernel=(1, 7), stride=(1, 4), padding=(0, 3), dilation=(1, 3))


# --- calling student code -------------------------------------------------------------------


def test_call_names_the_call_and_picks_the_hint_from_the_exception():
    def crash():
        raise RuntimeError("The expanded size of the tensor (4) must match the existing size (3)")

    message = fails(t.call, crash, label="conv2d(x of shape (1, 1, 4, 4))", hint=t._crash_hint)
    assert message.startswith("conv2d(x of shape (1, 1, 4, 4)) raised RuntimeError: The expanded")
    assert "sizes do not fit together" in message


def test_call_fails_an_untouched_stub():
    assert "returned None" in fails(t.call, lambda: None, label="f()")


def test_expect_int_accepts_numpy_ints_and_refuses_floats_and_bools():
    assert t.expect_int(np.int64(3), "f()") == 3
    for value in (3.0, True, np.float64(3.0)):
        assert "should return an int" in fails(t.expect_int, value, "f()")


# --- PyTorch measurements and oracles -------------------------------------------------------


def test_torch_sizes_match_the_documented_formulas(nb):
    for case in t.conv_cases(0, 200, **CONV_RANGES):
        assert t.torch_conv_size(*case) == nb["conv_output_size"](*case)
    for case in t.pool_cases(
        1, 200, n=(1, 30), kernel=(1, 6), stride=(1, 5), dilation=(1, 3),
        p_default_stride=0.3, p_ceil=0.6, p_avg=0.3,
    ):  # fmt: skip
        assert t.torch_pool_size(*case) == nb["pool_output_size"](*case[:6])
    for case in t.transpose_cases(
        2, 200, n=(1, 20), kernel=(1, 6), stride=(1, 4), padding=(0, 3), dilation=(1, 3)
    ):
        assert t.torch_transpose_size(*case) == nb["conv_transpose_output_size"](*case)


@pytest.mark.parametrize(
    "args", [(5, 3, 0), (5, 3, 1, -1), (5, 3, 1, 0, 0), (5, 0), (5, -1), (5, 6), (4, 4, 1, 1, 2)]
)
def test_oracle_refuses_with_value_error_where_pytorch_refuses(args):
    with pytest.raises(RuntimeError):
        t.torch_conv_size(*args)
    with pytest.raises(ValueError, match="PyTorch refuses"):
        t.oracle_conv_output_size(*args)


def test_oracles_work_while_q6_forbids_the_library_functions():
    with forbid(*t.LIBRARY_CONV, *t.LIBRARY_MAX_POOL, *t.PARAMETER_LISTS):
        t.torch_conv_size.cache_clear()
        t.torch_pool_size.cache_clear()
        assert t.oracle_conv_output_size(28, 3, 1, 1) == 28
        assert t.oracle_pool_output_size(7, 2, ceil_mode=True) == 4
        assert t.oracle_conv_transpose_output_size(7, 2, 2) == 14
        assert t.oracle_conv2d_params(4, 6, (3, 1), groups=2) == 4 * 6 // 2 * 3 + 6
        assert t.oracle_linear_params(784, 512) == 785 * 512


def test_earlier_answers_replaced_swaps_and_restores_the_notebook_globals():
    ns = notebook()
    originals = {name: ns[name] for name in t.EARLIER_ANSWERS}
    with pytest.raises(KeyError), t.earlier_answers_replaced(ns["trace_shapes"]):
        for name, oracle in t.EARLIER_ANSWERS.items():
            assert ns[name] is oracle
        assert ns["trace_shapes"] is not None
        raise KeyError("restored even when the test fails")
    assert {name: ns[name] for name in t.EARLIER_ANSWERS} == originals


def test_earlier_answers_replaced_binds_names_the_notebook_lacks_and_removes_them():
    # a syntax error in q3's cell defines neither conv2d_params nor linear_params: q4 is still
    # graded with the referees, and the names are gone again afterwards
    ns = notebook()
    del ns["conv2d_params"], ns["linear_params"]
    with t.earlier_answers_replaced(ns["count_stack_parameters"]):
        assert ns["conv2d_params"] is t.oracle_conv2d_params
        assert ns["count_stack_parameters"]([nn.Conv2d(2, 3, 3), nn.Linear(4, 5)]) == 57 + 25
    assert "conv2d_params" not in ns and "linear_params" not in ns


def test_earlier_answers_replaced_never_replaces_the_function_under_test():
    ns = notebook()
    with t.earlier_answers_replaced(ns["conv_output_size"]):
        assert ns["conv_output_size"] is not t.oracle_conv_output_size


# --- q1 -------------------------------------------------------------------------------------


def test_conv_cases_are_reproducible_valid_and_seed_dependent():
    first = t.conv_cases(3, 50, **CONV_RANGES, fixed=[(28, 3, 1, 1)])
    assert first == t.conv_cases(3, 50, **CONV_RANGES, fixed=[(28, 3, 1, 1)])
    assert first[0] == t.ConvCase(28, 3, 1, 1, 1) and len(first) == 50
    assert first != t.conv_cases(4, 50, **CONV_RANGES, fixed=[(28, 3, 1, 1)])
    for case in first:
        assert 1 <= case.n < 30 or case.n == 28
        t.torch_conv_size(*case)  # every case is a layer PyTorch accepts


def test_check_conv_output_size_accepts_a_correct_function(nb):
    t.check_conv_output_size(nb["conv_output_size"], t.conv_cases(0, 200, **CONV_RANGES))


@pytest.mark.parametrize(
    ("formula", "hint"),
    [
        ("-(-(n + 2 * padding - dilation * (kernel - 1) - 1) // stride) + 1", "round up (ceil)"),
        ("(n + 2 * padding - (kernel - 1) - 1) // stride + 1", "dilation is ignored"),
        ("(n + padding - dilation * (kernel - 1) - 1) // stride + 1", "both sides"),
        ("(n + 2 * padding - dilation * (kernel - 1) - 1) // stride", "+ 1"),
    ],
)
def test_check_conv_output_size_names_the_mistake(formula, hint):
    ns = notebook(("(n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1", formula))
    message = fails(
        t.check_conv_output_size, ns["conv_output_size"], t.conv_cases(0, 200, **CONV_RANGES)
    )
    assert "conv_output_size(n=" in message and hint in message


def test_check_conv_output_size_reports_a_float_result():
    ns = notebook(("(kernel - 1) - 1) // stride + 1", "(kernel - 1) - 1) / stride + 1"))
    assert "should return an int" in fails(
        t.check_conv_output_size, ns["conv_output_size"], [t.ConvCase(28, 3, 1, 1)]
    )


def test_check_conv_errors_requires_kernel_below_one_to_be_refused(nb):
    refused = [(dict(n=5, kernel=0), ("kernel",)), (dict(n=5, kernel=3, stride=0), ("stride",))]
    t.check_conv_errors(nb["conv_output_size"], refused, fits=[dict(n=4, kernel=8, padding=2)])
    lax = notebook(('("kernel", kernel, 1)', '("kernel", kernel, -9)'))
    message = fails(t.check_conv_errors, lax["conv_output_size"], refused)
    assert "conv_output_size(n=5, kernel=0)" in message and "kernel < 1" in message


def test_check_conv_errors_wants_the_argument_named():
    vague = notebook(('raise ValueError(f"{name} too small")', 'raise ValueError("bad layer")'))
    message = fails(
        t.check_conv_errors,
        vague["conv_output_size"],
        [(dict(n=5, kernel=3, stride=0), ("stride",))],
    )
    assert "should name the bad argument ('stride')" in message


def test_check_ceil_counterexample():
    t.check_ceil_counterexample(lambda: (6, 3, 2, 0))
    assert "not a counterexample" in fails(t.check_ceil_counterexample, lambda: (7, 3, 2, 0))
    assert "not a valid layer" in fails(t.check_ceil_counterexample, lambda: (2, 5, 1, 0))
    assert "tuple (n, kernel, stride, padding)" in fails(t.check_ceil_counterexample, lambda: 6)


# --- q2 -------------------------------------------------------------------------------------

POOL_CASES = dict(
    n=(1, 30), kernel=(1, 6), stride=(1, 5), dilation=(1, 3), p_default_stride=0.3, p_ceil=0.6
)


def test_check_pool_output_size(nb):
    t.check_pool_output_size(nb["pool_output_size"], t.pool_cases(3, 300, **POOL_CASES, p_avg=0.3))
    no_rule = notebook(
        ("return out - 1 if (out - 1) * stride >= n + padding else out", "return out")
    )
    message = fails(
        t.check_pool_output_size, no_rule["pool_output_size"], t.pool_cases(3, 300, **POOL_CASES)
    )
    assert "last-window rule" in message
    stride_one = notebook(("stride = kernel if stride is None else stride", "stride = stride or 1"))
    message = fails(
        t.check_pool_output_size, stride_one["pool_output_size"], t.pool_cases(3, 300, **POOL_CASES)
    )
    assert "defaults to kernel_size" in message


def test_check_conv_transpose_output_size(nb):
    cases = t.transpose_cases(
        5, 200, n=(1, 20), kernel=(1, 6), stride=(1, 4), padding=(0, 3), dilation=(1, 3)
    )
    t.check_conv_transpose_output_size(nb["conv_transpose_output_size"], cases)
    no_op = notebook(("+ output_padding + 1", "+ 1"))
    assert "left out output_padding" in fails(
        t.check_conv_transpose_output_size, no_op["conv_transpose_output_size"], cases
    )


# --- q3 -------------------------------------------------------------------------------------


def test_check_params_accepts_correct_counts(nb):
    cases = t.conv_param_cases(
        7, 40, groups=[1, 2, 4], per_group=(1, 6), kernel=(1, 6), p_pair=0.5, p_bias=0.7
    )
    t.check_conv2d_params(nb["conv2d_params"], cases)
    t.check_linear_params(
        nb["linear_params"], t.linear_param_cases(7, 20, n_in=(1, 500), n_out=(1, 50), p_bias=0.5)
    )


def test_params_hints_follow_what_the_count_reveals():
    case, want = t.ConvParamCase(3, 64, 3), 1792
    assert "exactly twice" in t.conv_params_hint(case, 2 * want, want)
    assert "count the bias" in t.conv_params_hint(case, want - 64, want)
    assert "leaving C_in out" in t.conv_params_hint(case, (9 + 1) * 64, want)
    assert "groups" in t.conv_params_hint(t.ConvParamCase(4, 4, 3, 2), 4 * 9 * 4 + 4, 2 * 9 * 4 + 4)
    dense, want = t.LinearParamCase(3072, 100), 307_300
    doubled = t.linear_params_hint(dense, 2 * want, want)
    assert "exactly twice" in doubled and "count the biases" not in doubled
    assert "count the biases" in t.linear_params_hint(dense, want - 100, want)
    assert "not one in total" in t.linear_params_hint(dense, want - 99, want)


# --- q4 -------------------------------------------------------------------------------------

STACKS = dict(
    kinds=["conv", "conv", "max", "avg", "relu", "convT", "bn"],
    input_channels=(1, 4), size=(4, 30), depth=(2, 7), p_head=0.5,
    channels=(1, 6), kernel=(1, 5), stride=(1, 3), padding=(0, 3), dilation=(1, 3),
    p_bias=0.7, p_default_stride=0.5, p_ceil=0.5, groups=True, transpose_dilation=True,
)  # fmt: skip


@pytest.fixture(scope="module")
def stacks():
    return t.random_stacks(11, 25, **STACKS)


def test_random_stacks_record_pytorchs_shapes(stacks):
    for stack in stacks:
        assert stack.shapes == t.run_shapes(stack.layers, stack.input_shape)
        assert len(stack.layers) == len(stack.shapes) >= 2


def test_check_trace_and_count_accept_a_correct_tracer(nb, stacks):
    t.check_trace(nb["trace_shapes"], stacks)
    t.check_count(nb["count_stack_parameters"], [s.layers for s in stacks])
    t.check_lecture_networks(nb["trace_shapes"], nb["count_stack_parameters"])


def test_q4_is_not_charged_for_wrong_q1_to_q3_answers(stacks):
    wrong = notebook(
        ("(kernel - 1) - 1) // stride + 1", "(kernel - 1) - 1) // stride"),
        ("return span // stride + 1", "return span // stride"),
        ("return (n_in + int(bias)) * n_out", "return n_in * n_out"),
    )
    t.check_trace(wrong["trace_shapes"], stacks)
    t.check_count(wrong["count_stack_parameters"], [s.layers for s in stacks])


def test_check_trace_points_at_the_first_wrong_layer(stacks):
    square = notebook(
        (
            "for a in (0, 1)\n                ]\n                channels = shape[0]",
            "for a in (0, 0)\n                ]\n                channels = shape[0]",
        )
    )
    message = fails(t.check_trace, square["trace_shapes"], stacks)
    assert "PyTorch gives" in message and "height and width are separate" in message
    no_ceil = notebook(("p[a], d[a], layer.ceil_mode)", "p[a], d[a])"))
    assert "pass the layer's ceil_mode" in fails(t.check_trace, no_ceil["trace_shapes"], stacks)


def test_check_trace_reports_a_crash_with_the_layer(stacks):
    crashy = notebook(("shape = (math.prod(shape),)", "shape = (shape[0] * shape[1] * shape[3],)"))
    message = fails(t.check_trace, crashy["trace_shapes"], stacks)
    assert "raised IndexError" in message and "The first layer that fails is layer" in message


def test_check_trace_forbids_calling_the_layers(stacks):
    runner = notebook(
        (
            "def trace_shapes(layers, input_shape):\n",
            "def trace_shapes(layers, input_shape):\n"
            "    x = torch.zeros(1, *input_shape)\n"
            "    return [tuple((x := layer(x)).shape[1:]) for layer in layers]\n",
        )
    )
    assert "do not call the layer" in fails(t.check_trace, runner["trace_shapes"], stacks)


def test_check_count_hints(nb, stacks):
    no_bias = notebook(("layer.bias is not None)\n    return total", "False)\n    return total"))
    layers = [s.layers for s in stacks]
    assert "count the biases" in fails(t.check_count, no_bias["count_stack_parameters"], layers)


def test_check_trace_refuses(nb):
    misfits = [
        ([nn.Conv2d(3, 8, 3)], (1, 28, 28), "channels"),
        ([nn.Linear(12, 3)], (1, 3, 4), "flat"),
    ]
    t.check_trace_refuses(nb["trace_shapes"], misfits)
    lax = notebook(('raise ValueError("channels")', "pass"))
    assert "should raise ValueError" in fails(t.check_trace_refuses, lax["trace_shapes"], misfits)
    stub = fails(t.check_trace_refuses, lambda layers, shape: None, misfits)
    assert "not answered yet" in stub and "should raise" not in stub  # the stub's diagnosis


def test_an_untouched_stub_is_not_told_to_raise():
    stub = fails(
        t.check_conv_errors,
        lambda n, kernel, stride=1, padding=0, dilation=1: None,
        [(dict(n=5, kernel=3, stride=0), ("stride",))],
    )
    assert "not answered yet" in stub and "raise ValueError" not in stub


# --- q5 -------------------------------------------------------------------------------------


def test_measure_receptive_field_gives_the_lecture_numbers():
    three = [(3, 1, 0, 1)] * 3
    assert t.measure_receptive_field(three) == (7, 1)
    assert t.measure_receptive_field([(3, 1, 0, 1), (3, 1, 0, 2), (3, 1, 0, 4)]) == (15, 1)
    assert t.measure_receptive_field([(3, 1, 1, 1), (2, 2, 0, 1), (3, 1, 1, 1), (2, 2, 0, 1)]) == (
        10,
        4,
    )


def test_check_receptive_field(nb):
    stacks = t.receptive_stacks(
        21, 12, depth=(2, 6), kernel=(1, 6), stride=(1, 3), dilation=(1, 3), p_max=0.3, p_avg=0.1
    )
    t.check_receptive_field(nb["receptive_field"], stacks)
    no_jump = notebook(("size + d * (k - 1) * jump", "size + d * (k - 1)"))
    assert "accumulated stride" in fails(
        t.check_receptive_field, no_jump["receptive_field"], stacks
    )
    no_pool = notebook(
        (
            "if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):\n            k, s",
            "if isinstance(layer, nn.Conv2d):\n            k, s",
        )
    )
    assert "pooling layer widens" in fails(
        t.check_receptive_field, no_pool["receptive_field"], stacks
    )


# --- q6 -------------------------------------------------------------------------------------

CONV2D = dict(
    batch=(1, 3),
    c_in=(1, 4),
    c_out=(1, 5),
    size=(5, 12),
    kernel=(1, 4),
    stride=(1, 3),
    padding=(0, 2),
    dilation=(1, 3),
    p_bias=0.7,
)
POOL2D = dict(
    batch=(1, 3), channels=(1, 3), size=(4, 12), kernel=(1, 4), stride=(1, 3), p_default_stride=0.3
)


def test_check_conv2d_and_max_pool2d_accept_correct_functions(nb):
    t.check_conv2d(nb["conv2d"], t.conv2d_cases(8, 12, **CONV2D), seed=8)
    t.check_conv2d(nb["conv2d"], t.conv2d_cases(9, 3, **CONV2D), seed=9, dtype=torch.float32)
    t.check_max_pool2d(nb["max_pool2d"], t.max_pool2d_cases(9, 12, **POOL2D), seed=9)
    t.check_vectorised(nb["conv2d"], nb["max_pool2d"])


def test_q6_is_not_charged_for_a_wrong_q1_answer():
    wrong = notebook(("(kernel - 1) - 1) // stride + 1", "(kernel - 1) - 1) // stride"))
    t.check_conv2d(wrong["conv2d"], t.conv2d_cases(8, 6, **CONV2D), seed=8)


@pytest.mark.parametrize(
    ("find", "replace", "hint"),
    [
        ("w.reshape(c_out, -1) @", "w.flip((-2, -1)).reshape(c_out, -1) @", "flipped the kernel"),
        ("w.reshape(c_out, -1) @", "w.permute(0, 2, 3, 1).reshape(c_out, -1) @", "(C_in, k_h"),
        ("out = out + b.reshape(1, -1, 1)", "out = out + b", "sizes do not fit together"),
        ("out = out + b.reshape(1, -1, 1)", "pass", "add the bias"),
    ],
)  # fmt: skip
def test_check_conv2d_names_the_mistake(find, replace, hint):
    ns = notebook((find, replace))
    message = fails(
        t.check_conv2d,
        ns["conv2d"],
        t.conv2d_cases(8, 12, **CONV2D, fixed=[((2, 3, 8, 8), (4, 3, 3, 3), True, 1, 1, 1)]),
        seed=8,
    )
    assert "conv2d(x of shape" in message and hint in message


def test_check_conv2d_forbids_the_library_convolution():
    cheat = notebook(
        (
            "    c_out, _, kh, kw = w.shape\n    cols",
            "    return F.conv2d(x, w, b, stride, padding, dilation)\n"
            "    c_out, _, kh, kw = w.shape\n    cols",
        )
    )
    assert "implement this yourself" in fails(
        t.check_conv2d, cheat["conv2d"], t.conv2d_cases(8, 2, **CONV2D), seed=8
    )


def test_check_conv2d_refuses_a_library_convolution_bound_before_the_test():
    bound = notebook(
        (
            "    c_out, _, kh, kw = w.shape\n    cols",
            "    return _library_conv(x, w, b, stride, padding, dilation)\n"
            "    c_out, _, kh, kw = w.shape\n    cols",
        )
    )
    bound["_library_conv"] = F.conv2d
    assert "however your code reaches them" in fails(
        t.check_conv2d, bound["conv2d"], t.conv2d_cases(8, 2, **CONV2D), seed=8
    )


def test_run_replaced_forbids_and_replaces_where_it_runs():
    # on the referee, run_replaced runs where the student's function lives (run_beside): the
    # earlier answers are bound in its globals and the library refused there, names bound before
    # the block included
    ns = notebook()
    del ns["conv_output_size"]  # q1's cell did not run: the oracle stands in while sizes runs
    ns["_library_conv"] = F.conv2d
    exec("def sizes(n):\n    return conv_output_size(n, 3)", ns)
    exec("def cheat(x, w):\n    return _library_conv(x, w)", ns)
    assert t.run_replaced(ns["sizes"], (), "", False, (7,), {}) == 5
    assert "conv_output_size" not in ns
    x, w = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 2, 2)
    with pytest.raises(RuntimeError, match="implement this yourself"):
        t.run_replaced(ns["cheat"], t.LIBRARY_CONV, "", False, (x, w), {})
    lines, out = t.run_replaced(ns["cheat"], (), "", True, (x, w), {})
    assert lines == 1 and out.shape == (1, 1, 3, 3)


def test_max_pool2d_hints_depend_on_the_padding():
    zero_pad = notebook(('value=float("-inf")', "value=0.0"))
    padded = [t.PoolCase2d((2, 2, 9, 8), 3, 2, 1)]
    assert "pad with -inf" in fails(
        t.check_max_pool2d, zero_pad["max_pool2d"], padded, seed=1, shift=-1.0
    )
    minimum = notebook(("amax(dim=(-2, -1))", "amin(dim=(-2, -1))"))
    message = fails(
        t.check_max_pool2d, minimum["max_pool2d"], [t.PoolCase2d((1, 1, 4, 4), 2)], seed=1
    )
    assert "minimum of each window" in message and "-inf" not in message


def test_check_vectorised_catches_a_loop_over_positions(nb):
    loop = notebook(
        (
            "    out = w.reshape(c_out, -1) @ cols\n",
            "    w2 = w.reshape(c_out, -1)\n"
            "    out = torch.cat([w2 @ cols[..., i : i + 1] for i in range(cols.shape[-1])], -1)\n",
        )
    )
    t.check_conv2d(loop["conv2d"], t.conv2d_cases(8, 4, **CONV2D), seed=8)  # correct values
    assert "loop over output positions" in fails(
        t.check_vectorised, loop["conv2d"], nb["max_pool2d"]
    )


def test_python_lines_counts_only_notebook_code(nb):
    x, w = torch.randn(1, 2, 6, 6), torch.randn(3, 2, 3, 3)
    small, out = t.python_lines(nb["conv2d"], x, w)
    large, _ = t.python_lines(nb["conv2d"], torch.randn(1, 2, 30, 30), w)
    assert 0 < small == large and out.shape == (1, 3, 4, 4)


def test_check_vectorised_fails_an_untouched_stub(nb):
    stub = notebook(
        (
            "def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):\n",
            "def conv2d(x, w, b=None, stride=1, padding=0, dilation=1):\n    return None\n",
        )
    )
    assert "returned None" in fails(t.check_vectorised, stub["conv2d"], nb["max_pool2d"])
    assert F.conv2d is torch.conv2d and math.prod((2, 3)) == 6  # untouched by the tracing


def test_diagnoses_carry_their_hint_tag():
    """The tags mutants.yml names (hint_id) and the class report counts, written by tagged."""
    ceil = notebook(
        (
            "(n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1",
            "-(-(n + 2 * padding - dilation * (kernel - 1) - 1) // stride) + 1",
        )
    )
    message = fails(t.check_conv_output_size, ceil["conv_output_size"], [t.ConvCase(6, 3, 2)])
    assert message.endswith("not computed [hint: conv.size_ceil]")
    lax = notebook(('("kernel", kernel, 1)', '("kernel", kernel, -9)'))
    message = fails(
        t.check_conv_errors, lax["conv_output_size"], [(dict(n=5, kernel=0), ("kernel",))]
    )
    assert "[hint: conv.refuse_kernel]" in message
    assert "[hint: conv.params_bias]" in t.conv_params_hint(
        t.ConvParamCase(3, 64, 3, 1, True), 1728, 1792
    )
