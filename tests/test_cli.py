"""``python -m autograd_lite``: train on the digits, report, plot, save; errors in plain words."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import autograd_lite as al
from autograd_lite.__main__ import main

ACCURACY = re.compile(r"^test accuracy: (\d\.\d{3}) \((\d+)/450\)$", re.M)


def confusion_rows(out):
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("true\\pred"))
    return np.array([[int(v) for v in line.split()[1:]] for line in lines[start + 1 : start + 11]])


def test_quick_run_prints_accuracy_and_confusion_matrix(capsys):
    assert main(["train", "--epochs", "1", "--hidden", "20", "--no-progress"]) == 0
    out = capsys.readouterr().out
    match = ACCURACY.search(out)
    assert match, out
    accuracy, corrects = float(match.group(1)), int(match.group(2))
    assert accuracy == pytest.approx(corrects / 450, abs=5e-4)
    assert accuracy > 0.5
    cm = confusion_rows(out)
    assert cm.shape == (10, 10) and cm.sum() == 450 and np.trace(cm) == corrects


def test_progress_goes_to_stderr(capsys):
    assert main(["train", "--epochs", "2", "--hidden", "10"]) == 0
    captured = capsys.readouterr()
    assert "loss" in captured.err
    assert "loss" not in captured.out.split("test accuracy")[1]


def test_progress_without_tqdm(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if the extra were not installed
    assert main(["train", "--epochs", "2", "--hidden", "10"]) == 0
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err


def test_batches_and_the_tutorial_rule(capsys):
    assert (
        main(["train", "--epochs", "2", "--batch-size", "16", "--lr", "0.2", "--no-progress"]) == 0
    )
    assert ACCURACY.search(capsys.readouterr().out)
    assert main(["train", "--epochs", "1", "--update", "tutorial", "--bias", "0",
                 "--no-progress"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "update tutorial" in out and ACCURACY.search(out)


def test_save_and_plot(tmp_path, capsys):
    weights, plots = tmp_path / "digits.npz", tmp_path / "plots"
    argv = ["train", "--epochs", "2", "--hidden", "12", "--no-progress", "--save", str(weights),
            "--plot", str(plots)]  # fmt: skip
    assert main(argv) == 0
    state = al.load(weights)
    assert state["wih"].shape == (12, 65) and state["who"].shape == (10, 13)
    for name in ("loss.png", "confusion.png"):
        assert (plots / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the saved weights give the accuracy that was printed
    from autograd_lite.data import load_digits
    from autograd_lite.tutorial import NeuralNetwork

    net = NeuralNetwork(64, 10, 12, 0.1, bias=1)
    net.load_state_dict(state)
    _, test = load_digits()
    corrects = int(ACCURACY.search(capsys.readouterr().out).group(2))
    assert net.evaluate(test.inputs, test.labels)[0] == corrects


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--epochs", "0"], "--epochs must be a positive integer"),
        (["train", "--epochs", "-3"], "--epochs must be a positive integer"),
        (["train", "--hidden", "0"], "--hidden must be a positive integer"),
        (["train", "--batch-size", "0"], "--batch-size must be a positive integer"),
        (["train", "--lr", "nan"], "--lr must be a positive, finite number"),
        (["train", "--lr", "-1"], "--lr must be a positive, finite number"),
        (["train", "--epochs", "many"], "invalid int value: 'many'"),
        (["train", "--save", "/no/such/folder/w.npz"], "does not exist"),
        (["train", "--unknown"], "unrecognized arguments"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_non_zero_with_a_message(argv, message, capsys):
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_saving_onto_a_folder_is_refused_before_training(tmp_path, capsys):
    assert main(["train", "--save", str(tmp_path)]) == 2  # at once: no training run first
    assert "is a folder; give a file path" in capsys.readouterr().err


def test_plot_into_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("")
    assert main(["train", "--plot", str(f)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_no_command_shows_the_commands(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert "train" in out and "gradcheck" in out


def test_help(capsys):
    assert main(["train", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--batch-size" in out and "--plot" in out


def test_gradcheck_is_delegated(monkeypatch):
    seen = []
    fake = types.SimpleNamespace(main=lambda argv: seen.append(argv) or 3)
    import autograd_lite.testing

    monkeypatch.setattr(autograd_lite.testing, "cli", fake, raising=False)
    assert main(["gradcheck", "--fast"]) == 3
    assert seen == [["--fast"]]


def test_gradcheck_missing_module_is_a_clear_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "autograd_lite.testing", None)
    assert main(["gradcheck"]) == 2
    assert "gradcheck command is not available" in capsys.readouterr().err


def test_python_dash_m_lists_commands():
    out = subprocess.run([sys.executable, "-m", "autograd_lite"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    assert "train" in out and "gradcheck" in out


def test_defaults_reach_097_on_the_held_out_digits(capsys):
    """The README's command, as it is: 30 epochs of online SGD (about 5 s)."""
    assert main(["train", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert float(ACCURACY.search(out).group(1)) >= 0.97


# -- batch size, progress bar and log files ---------------------------------------------------


def test_a_batch_with_the_per_sample_rate_is_warned_about(capsys):
    assert main(["train", "--batch-size", "32", "--epochs", "1", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "warning: --batch-size 32 keeps the per-sample learning rate 1" in err
    assert "--lr 0.0312" in err
    assert main(["train", "--batch-size", "32", "--lr", "0.03", "--epochs", "1",
                 "--no-progress"]) == 0  # fmt: skip
    assert "warning" not in capsys.readouterr().err  # the rate was chosen
    assert main(["train", "--epochs", "1", "--hidden", "10", "--no-progress"]) == 0
    assert "warning" not in capsys.readouterr().err  # online SGD: the tutorial's setting


def test_the_suggested_rate_trains_where_the_default_one_fails(capsys):
    """lr / batch size gives batches the step size of online SGD (30 epochs, about 1 s each)."""
    assert main(["train", "--batch-size", "32", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert float(ACCURACY.search(out).group(1)) < 0.3  # saturated sigmoids: about chance
    assert main(["train", "--batch-size", "32", "--lr", "0.03125", "--no-progress"]) == 0
    assert float(ACCURACY.search(capsys.readouterr().out).group(1)) > 0.9


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_names_the_epoch_under_way(monkeypatch):
    import tqdm

    seen: list[tuple[int, str]] = []  # (samples done after an update, the bar's label then)

    class Bar:
        def __init__(self, total, desc, **kwargs):
            self.n, self.desc = 0, desc

        def update(self, k):
            self.n += k
            seen.append((self.n, self.desc))

        def set_description(self, desc, refresh=True):
            self.desc = desc

        def set_postfix_str(self, text):
            assert text.startswith("epoch ")  # the finished epoch that the loss belongs to

        def close(self):
            pass

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert main(["train", "--epochs", "3", "--hidden", "10"]) == 0
    n = 1347  # training samples of the digits
    assert seen and seen[-1][0] == 3 * n
    for done, label in seen:
        assert label == f"epoch {(done - 1) // n + 1}/3", (done, label)


def test_a_log_file_gets_one_line_per_epoch(capsys):
    """stderr is not a terminal here (pytest captures it): no bar updates on one long line."""
    assert main(["train", "--epochs", "3", "--hidden", "10"]) == 0
    lines = capsys.readouterr().err.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("\r" not in line and "samples/s" in line for line in lines)


def test_a_terminal_gets_the_bar(monkeypatch):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["train", "--epochs", "2", "--hidden", "10"]) == 0
    text = terminal.getvalue()
    assert "\r" in text and "epoch 2/2" in text and "2.69k/2.69k" in text
