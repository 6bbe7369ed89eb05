"""shared.testing.cnn_vs_mlp: every check accepts valid styles and names the mistake it catches."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from shared.digits import load_digits_data
from shared.testing import cnn_vs_mlp as t
from shared.training import make_loader
from tests.support import load_grader_only

oracles = load_grader_only("04_cnn_vs_mlp", "oracles")

# --------------------------------------------------------------------------- reference solutions


def make_cnn(canvas=16, channels=(16, 32), n_classes=10):
    return oracles.cnn(canvas, channels, n_classes)


def make_mlp(canvas=16, hidden=(40,), n_classes=10):
    return oracles.mlp(canvas, hidden, n_classes)


def train_one_epoch(
    model,
    loader,
    loss_fn,
    optimizer,
    device,
    progress=False,
    *,
    zero_grad=True,
    softmax=False,
    own_loss=False,
    move=True,
    per_example=True,
):
    model.train()
    total, seen = 0.0, 0
    for x, y in loader:
        if move:
            x, y = x.to(device), y.to(device)
        if zero_grad:
            optimizer.zero_grad()
        logits = model(x).softmax(dim=1) if softmax else model(x)
        loss = F.cross_entropy(logits, y) if own_loss else loss_fn(logits, y)
        loss.backward()
        optimizer.step()
        total += loss.item() * (len(y) if per_example else 1)
        seen += len(y) if per_example else 1
    return total / seen


def evaluate(model, loader, device, progress=False, *, eval_mode=True):
    model.train(not eval_mode)
    losses, hits = [], []
    with torch.no_grad():
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            logits = model(x)
            losses.append(F.cross_entropy(logits, y, reduction="none"))
            hits.append(logits.argmax(dim=1) == y)
    return torch.cat(losses).mean().item(), torch.cat(
        hits
    ).float().mean().item()  # float32 accuracy


def make_loaders(*, canvas=16, shifted=True, batch_size=32, seed=0):
    X, y = load_digits_data("train", canvas=canvas, shifted=shifted)
    X_t, y_t = load_digits_data("test", canvas=canvas, shifted=shifted)
    return make_loader(X, y, batch_size=batch_size, seed=seed), make_loader(
        X_t, y_t, batch_size=256, shuffle=False
    )


def run_experiment(
    model,
    train_loader,
    test_loader,
    *,
    epochs,
    lr,
    device,
    progress=False,
    per_epoch_adam=False,
    move=True,
):
    if move:
        model.to(device)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"train_loss": [], "test_loss": [], "test_acc": []}
    for _ in range(epochs):
        if per_epoch_adam:
            optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        history["train_loss"].append(
            train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        )
        loss, acc = evaluate(model, test_loader, device)
        history["test_loss"].append(loss)
        history["test_acc"].append(acc)
    return history


def _with(fn, **options):
    def wrapped(*args, **kwargs):
        return fn(*args, **kwargs, **options)

    return wrapped


# --------------------------------------------------------------------------- calling, bars


def test_call_turns_a_crash_into_a_message_with_the_call_and_hint():
    def broken(x):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied.\nmore")

    with pytest.raises(
        AssertionError,
        match=r"f\(x\) raised RuntimeError: mat1 and mat2 shapes cannot be multiplied\. Hint: look",
    ):
        t.call(broken, 1, desc="f(x)", hint="Hint: look")
    with pytest.raises(AssertionError, match="returned None"):
        t.call(lambda: None, desc="g()")


def test_no_progress_bar_ignores_prints_and_warnings_but_not_bars(capsys):
    from tqdm.auto import tqdm as auto_tqdm

    with t.no_progress_bar("loop"):
        print("epoch 1")
        warnings.warn("a warning on stderr", UserWarning, stacklevel=1)
        list(auto_tqdm(range(3), disable=True))
    with pytest.raises(AssertionError, match="showed a progress bar"), t.no_progress_bar("loop"):
        list(auto_tqdm(range(3)))
    capsys.readouterr()


# --------------------------------------------------------------------------- models


class FunctionalLectureCNN(nn.Module):
    def __init__(self, dropout_first=False):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(3136, 128), nn.Linear(128, 10)
        self.conv1, self.conv2 = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 64, 3, padding=1)
        self.dropout_first = dropout_first

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.flatten(F.max_pool2d(F.relu(self.conv2(x)), 2), 1)
        if self.dropout_first:
            x = F.dropout(x, 0.3, self.training)
            return self.fc2(F.relu(self.fc1(x)))
        return self.fc2(F.dropout(F.relu(self.fc1(x)), 0.3, self.training))


def test_reference_comparison_accepts_functional_dropout_and_rejects_a_misplaced_one():
    x = torch.rand(2, 1, 28, 28, dtype=torch.float64)
    t.check_matches_reference(
        FunctionalLectureCNN(), oracles.lecture_cnn(), x, "cnn", "Hint: h", dropout_seed=5
    )
    with pytest.raises(AssertionError, match="training mode"):
        t.check_matches_reference(
            FunctionalLectureCNN(True), oracles.lecture_cnn(), x, "cnn", "Hint: h", dropout_seed=5
        )
    with pytest.raises(AssertionError, match=r"parameter tensors of shapes"):
        t.check_matches_reference(oracles.lecture_mlp(), oracles.lecture_cnn(), x, "cnn", "Hint: h")


def test_builders_accept_the_reference_and_catch_linear_and_softmax_models():
    t.check_cnn_builder(make_cnn, 20, (6, 12), 10)
    t.check_mlp_builder(make_mlp, 10, (7, 5), 3)
    relu = nn.ReLU()  # one shared instance, used twice
    shared = nn.Sequential(
        nn.Flatten(), nn.Linear(100, 7), relu, nn.Linear(7, 5), relu, nn.Linear(5, 3)
    )
    t.check_mlp_builder(lambda **_: shared, 10, (7, 5), 3)
    linear = nn.Sequential(nn.Flatten(), nn.Linear(100, 7), nn.Linear(7, 5), nn.Linear(5, 3))
    with pytest.raises(AssertionError, match="affine map.*ReLU"):
        t.check_mlp_builder(lambda **_: linear, 10, (7, 5), 3)
    with pytest.raises(AssertionError, match="probabilities"):
        t.check_cnn_builder(
            lambda **kw: nn.Sequential(make_cnn(**kw), nn.Softmax(dim=1)), 16, (4, 8), 10
        )
    with pytest.raises(AssertionError, match="twice the count"):
        t.check_param_count(nn.Linear(3, 3), 6, "m", "")
    t.check_device_free(make_cnn, "make_cnn()", (2, 1, 16, 16), (2, 10))
    with pytest.raises(AssertionError, match="do not choose a device"):
        t.check_device_free(lambda: make_cnn().to("cpu"), "make_cnn()", (2, 1, 16, 16), (2, 10))


def test_budget_by_formula():
    for hidden in [(34,), (40,), [32, 32]]:
        t.check_budget(hidden)
    with pytest.raises(AssertionError, match="more than 10%"):
        t.check_budget((41,))
    with pytest.raises(AssertionError, match="tuple of hidden widths"):
        t.check_budget(40)


# --------------------------------------------------------------------------- training loop


def _epoch_case(fn):
    gen = torch.Generator().manual_seed(7)
    X, y = torch.randn(12, 1, 3, 3, generator=gen), torch.randint(0, 4, (12,), generator=gen)
    torch.manual_seed(3)
    model = nn.Sequential(nn.Flatten(), nn.Linear(9, 6), nn.ReLU(), nn.Linear(6, 4))
    t.check_train_epoch(
        fn,
        model,
        X,
        y,
        batch_size=5,
        loss_fn=nn.CrossEntropyLoss(label_smoothing=0.1),
        make_optimizer=lambda p: torch.optim.SGD(p, lr=0.5),
        desc="train_one_epoch",
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"zero_grad": False}, "zero_grad"),
        ({"softmax": True}, "softmax"),
        ({"own_loss": True}, "never called its loss_fn"),
        ({"move": False}, r"x\.to\(device\)"),
        ({"per_example": False}, "mean of the batch means"),
    ],
)
def test_train_epoch_diagnoses_each_mistake(options, message):
    _epoch_case(train_one_epoch)
    with pytest.raises(AssertionError, match=message):
        _epoch_case(_with(train_one_epoch, **options))


def test_train_mode_and_evaluate():
    t.check_train_mode(train_one_epoch, seed=11, desc="train_one_epoch")
    torch.manual_seed(21)

    def model():
        return nn.Sequential(
            t.Probe(), nn.Flatten(), nn.Linear(9, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3)
        )

    X, y = torch.randn(10, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 2])
    t.check_evaluate(evaluate, model(), X, y, batch_size=4, desc="evaluate")
    with pytest.raises(AssertionError, match=r"model\.eval\(\)"):
        t.check_evaluate(
            _with(evaluate, eval_mode=False), model(), X, y, batch_size=4, desc="evaluate"
        )


# --------------------------------------------------------------------------- loaders, driver, claim


def test_loaders():
    t.check_loaders(
        make_loaders, canvas=12, shifted=False, batch_size=50, seed=3, load=load_digits_data
    )

    def shuffled_test(**kw):
        train, test = make_loaders(**kw)
        return train, make_loader(*test.dataset.tensors, batch_size=256, seed=1)

    with pytest.raises(AssertionError, match="original order"):
        t.check_loaders(
            shuffled_test, canvas=12, shifted=False, batch_size=50, seed=3, load=load_digits_data
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, None),
        ({"per_epoch_adam": True}, "new optimizer"),
        ({"move": False}, r"model\.to\(device\)"),
    ],
)
def test_run_experiment_with_spies(options, message):
    fn = _with(run_experiment, **options)
    if message is None:
        t.check_run_experiment(fn, epochs=3, lr=0.01, seed=2)
    else:
        with pytest.raises(AssertionError, match=message):
            t.check_run_experiment(fn, epochs=3, lr=0.01, seed=2)
    assert globals()["train_one_epoch"] is train_one_epoch, "the spies are taken out again"


def test_upstream_checks_pass_on_a_correct_solution_and_name_the_broken_question():
    args = (
        make_cnn,
        make_mlp,
        (40,),
        train_one_epoch,
        evaluate,
        make_loaders,
        run_experiment,
        load_digits_data,
    )
    assert t.first_failure(t.upstream_checks(*args)) is None
    broken = list(args)
    broken[3] = _with(train_one_epoch, zero_grad=False)
    assert t.first_failure(t.upstream_checks(*broken)) == "q3"


def test_upstream_checks_in_a_notebook_whose_cells_defined_nothing_gate_the_claim():
    from shared.testing import NotJudged, gate

    env = {"make_cnn": make_cnn, "make_mlp": make_mlp, "mlp_hidden": (40,)}
    env |= {
        "train_one_epoch": train_one_epoch,
        "evaluate": evaluate,
        "run_experiment": run_experiment,
    }
    env["make_loaders"] = make_loaders
    assert gate(t.upstream_checks_in(env, load_digits_data)) is None
    for name, question in [
        ("mlp_hidden", "q2"),
        ("make_cnn", "q2"),
        ("evaluate", "q3"),
        ("run_experiment", "q4"),
    ]:
        skipped = gate(
            t.upstream_checks_in({k: v for k, v in env.items() if k != name}, load_digits_data)
        )
        assert isinstance(skipped, NotJudged) and f"{question} fails first" in skipped, (
            name,
            skipped,
        )


def test_final_numbers_and_claim():
    histories = {
        key: {"test_acc": [0.5, acc]}
        for key, acc in zip(t.EXPERIMENT_KEYS, [0.85, 0.43, 0.97, 0.96], strict=True)
    }
    final = {key: h["test_acc"][-1] for key, h in histories.items()}
    t.check_final_numbers(final, 0.85 - 0.43, 0.97 - 0.96, histories)
    with pytest.raises(AssertionError, match="not the other way round"):
        t.check_final_numbers(final, 0.43 - 0.85, 0.97 - 0.96, histories)
    t.check_claim(final, "test", runs="the cell")
    with pytest.raises(AssertionError, match="beat the MLP by at least 0.2"):
        t.check_claim({**final, ("shifted", "mlp"): 0.7}, "test", runs="the cell")


# --------------------------------------------------------------------------- equivariance, patches


def test_shift_and_gap():
    x = torch.rand(1, 2, 6, 7, dtype=torch.float64)
    t.check_shift(oracles.shift, x, 2, -3, oracles.shift(x, 2, -3))
    with pytest.raises(AssertionError, match="dtype"):
        t.check_shift(
            lambda x, dy, dx: oracles.shift(x, dy, dx).float(), x, 2, -3, oracles.shift(x, 2, -3)
        )

    def gap(f, x, dy, dx, margin, *, signed=False):
        d = f(oracles.shift(x, dy, dx)) - oracles.shift(f(x), dy, dx)
        H, W = d.shape[-2:]
        d = d[..., margin : H - margin, margin : W - margin]
        return (d if signed else d.abs()).max().item()

    t.check_gap(gap, t.offset_map(0.5), x, 2, -1, 0, 0.5, "x - 0.5")
    t.check_gap(gap, t.offset_map(0.5), x, 2, -1, 2, 0.0, "x - 0.5")
    with pytest.raises(AssertionError, match="absolute value"):
        t.check_gap(lambda *a: gap(*a, signed=True), t.offset_map(0.5), x, 2, -1, 0, 0.5, "x - 0.5")

    def negative_slice(f, x, dy, dx, margin):
        d = f(oracles.shift(x, dy, dx)) - oracles.shift(f(x), dy, dx)
        return d[..., margin:-margin, margin:-margin].abs().max().item()

    with pytest.raises(AssertionError, match="margin=0"):
        t.check_gap(negative_slice, t.offset_map(0.5), x, 2, -1, 0, 0.5, "x - 0.5")


def test_patches_and_linear_to_conv_accept_valid_padding_and_parameters():
    x = torch.randn(2, 3, 5, 4, dtype=torch.float64)
    t.check_patches(
        lambda x, k: x.unfold(2, k, 1).unfold(3, k, 1).permute(0, 2, 3, 1, 4, 5).flatten(3), x, 2
    )
    with pytest.raises(AssertionError, match="Forbidden|forbid|conv"):
        t.check_patches(lambda x, k: F.conv2d(x, torch.ones(1, 3, k, k, dtype=x.dtype)), x, 2)

    def linear_to_conv(linear, C, k):
        conv = nn.Conv2d(
            C, linear.out_features, k, padding="valid", bias=linear.bias is not None
        ).to(linear.weight)
        conv.weight = nn.Parameter(
            linear.weight.detach().reshape(linear.out_features, C, k, k).clone()
        )
        if linear.bias is not None:
            conv.bias = nn.Parameter(linear.bias.detach().clone())
        return conv

    t.check_linear_to_conv(linear_to_conv, nn.Linear(12, 5).double(), 3, 2, x)
    t.check_linear_to_conv(linear_to_conv, nn.Linear(12, 5, bias=False, device="meta"), 3, 2, x)
    with pytest.raises(AssertionError, match=r"\(C, k, k\)"):
        t.check_linear_to_conv(
            lambda lin, C, k: linear_to_conv(nn.Linear(12, 5).double(), C, k),
            nn.Linear(12, 5).double(),
            3,
            2,
            x,
        )


@pytest.mark.parametrize(
    ("options", "tag"),
    [({"zero_grad": False}, "cnn.zero_grad"), ({"per_example": False}, "cnn.mean_of_batch_means")],
)
def test_diagnoses_carry_their_hint_tag(options, tag):
    """The tags mutants.yml names (hint_id) and the class report counts, written by tagged."""
    with pytest.raises(AssertionError, match=rf"\[hint: {tag}\]"):
        _epoch_case(_with(train_one_epoch, **options))
