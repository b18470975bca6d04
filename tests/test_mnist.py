"""MNIST loaders (IDX, gzipped or not, and the tutorial's CSV), `train --data mnist`, and the
chapter's experiment script, all on small files the tests write themselves."""

from __future__ import annotations

import gzip
import re
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_lite.__main__ import main
from autograd_lite.data import Digits
from autograd_lite.mnist import (
    IMAGES_MAGIC,
    LABELS_MAGIC,
    find_mnist_files,
    load_mnist,
    load_mnist_csv,
    read_idx,
    scale_mnist,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mnist_tutorial.py"
OFFICIAL = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte")  # fmt: skip
DOTTED = ("train-images.idx3-ubyte", "train-labels.idx1-ubyte", "t10k-images.idx3-ubyte",
          "t10k-labels.idx1-ubyte")  # fmt: skip


def idx_bytes(array: np.ndarray, magic: int | None = None) -> bytes:
    """IDX, written independently of the reader: magic, big-endian sizes, big-endian items."""
    codes = {"u1": 0x08, "i1": 0x09, "i2": 0x0B, "i4": 0x0C, "f4": 0x0D, "f8": 0x0E}
    code = codes[array.dtype.str[1:]]
    if magic is None:
        magic = (code << 8) | array.ndim
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def digits_like(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` learnable 28×28 images: digit k lights rows 2k and 2k + 1, over faint noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        images[i, 2 * k : 2 * k + 2, 4:24] = 250
    return images, labels


def mnist_folder(folder: Path, n_train=60, n_test=20, names=OFFICIAL, gz=True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    train, test = digits_like(n_train, 1), digits_like(n_test, 2)
    ext = ".gz" if gz else ""
    for name, array in zip(names, (*train, *test)):
        write(folder / (name + ext), idx_bytes(array), gz)
    return folder


# -- IDX --------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx_round_trip(tmp_path, gz):
    images = np.random.default_rng(0).integers(0, 256, (3, 4, 5)).astype(np.uint8)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    p_img = write(tmp_path / "img", idx_bytes(images), gz)
    p_lab = write(tmp_path / "lab", idx_bytes(labels), gz)
    np.testing.assert_array_equal(read_idx(p_img, IMAGES_MAGIC), images)
    np.testing.assert_array_equal(read_idx(p_lab, LABELS_MAGIC), labels)
    assert read_idx(p_img).dtype == np.uint8
    # other IDX types, read in native byte order
    ints = np.array([[1, -2], [300000, 4]], dtype=np.int32)
    got = read_idx(write(tmp_path / "ints", idx_bytes(ints), gz))
    np.testing.assert_array_equal(got, ints)
    assert got.dtype.isnative


def test_magic_numbers_are_the_official_ones():
    assert (IMAGES_MAGIC, LABELS_MAGIC) == (2051, 2049)


def test_wrong_magic_number_names_the_file(tmp_path):
    labels = write(tmp_path / "labels.idx", idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(ValueError, match=r"labels\.idx: wrong magic number 2049 .*expected 2051"):
        read_idx(labels, IMAGES_MAGIC)
    junk = write(tmp_path / "junk", b"PK\x03\x04" + bytes(20))
    with pytest.raises(ValueError, match="junk: not an IDX file"):
        read_idx(junk)
    bad_type = write(tmp_path / "t", b"\x00\x00\x07\x01" + (1).to_bytes(4, "big") + b"\x00")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(bad_type)


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_or_overlong_files_are_refused(tmp_path, gz):
    data = idx_bytes(np.zeros((5, 28, 28), np.uint8))
    short = write(tmp_path / "short", data[:-10], gz)
    with pytest.raises(ValueError, match=r"short: truncated: .*\(5, 28, 28\) = 3920 bytes.*3910"):
        read_idx(short, IMAGES_MAGIC)
    long = write(tmp_path / "long", data + b"\x00", gz)
    with pytest.raises(ValueError, match="long: longer than its header says"):
        read_idx(long)
    header_only = write(tmp_path / "head", data[:10], gz)  # 3 sizes need 16 header bytes
    with pytest.raises(ValueError, match="head: truncated: the header needs 16 bytes"):
        read_idx(header_only)
    tiny = write(tmp_path / "tiny", b"\x00\x00", gz)
    with pytest.raises(ValueError, match="tiny: truncated"):
        read_idx(tiny)


def test_truncated_gzip_stream_is_a_clear_error(tmp_path):
    packed = gzip.compress(idx_bytes(np.arange(200, dtype=np.uint8)))
    path = write(tmp_path / "cut.gz", packed[: len(packed) // 2])
    with pytest.raises(ValueError, match=r"cut\.gz: damaged or truncated gzip"):
        read_idx(path)


# -- load_mnist -------------------------------------------------------------------------------


@pytest.mark.parametrize("names, gz", [(OFFICIAL, True), (OFFICIAL, False), (DOTTED, True),
                                       (DOTTED, False)])  # fmt: skip
def test_load_mnist_reads_both_spellings_gzipped_or_not(tmp_path, names, gz):
    folder = mnist_folder(tmp_path / "m", names=names, gz=gz)
    train, test = load_mnist(folder)
    assert isinstance(train, Digits) and isinstance(test, Digits)
    images, labels = digits_like(60, 1)
    assert train.inputs.shape == (60, 784) and test.inputs.shape == (20, 784)
    np.testing.assert_array_equal(train.labels, labels)
    assert train.labels.dtype == np.int64
    # the tutorial's scaling, computed here pixel by pixel
    flat = images.reshape(60, 784).astype(np.float64)
    np.testing.assert_allclose(train.inputs, flat * 0.99 / 255 + 0.01, rtol=0, atol=1e-15)
    want = np.full((60, 10), 0.01)
    want[np.arange(60), labels] = 0.99
    np.testing.assert_array_equal(train.targets, want)
    np.testing.assert_array_equal(test.labels, digits_like(20, 2)[1])


def test_scaling_end_points():
    np.testing.assert_allclose(scale_mnist(np.array([0, 255, 51], np.uint8)),
                               [0.01, 1.0, 0.01 + 51 * 0.99 / 255])  # fmt: skip


def test_load_mnist_first_n(tmp_path):
    folder = mnist_folder(tmp_path / "m")
    train, test = load_mnist(folder, n_train=7, n_test=3)
    assert len(train) == 7 and len(test) == 3
    np.testing.assert_array_equal(train.labels, digits_like(60, 1)[1][:7])
    with pytest.raises(ValueError, match="n_train must be None or a positive integer"):
        load_mnist(folder, n_train=0)


def test_counts_that_disagree(tmp_path):
    folder = mnist_folder(tmp_path / "m", gz=False)
    write(folder / OFFICIAL[1], idx_bytes(digits_like(59, 1)[1]))
    with pytest.raises(ValueError, match=r"counts disagree: .*60 images.*59 labels"):
        load_mnist(folder)


def test_images_and_labels_swapped_is_a_magic_error(tmp_path):
    folder = mnist_folder(tmp_path / "m", gz=False)
    images = (folder / OFFICIAL[2]).read_bytes()
    (folder / OFFICIAL[2]).write_bytes((folder / OFFICIAL[3]).read_bytes())
    (folder / OFFICIAL[3]).write_bytes(images)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte: wrong magic number 2049"):
        load_mnist(folder)


def test_a_label_that_is_not_a_digit(tmp_path):
    folder = mnist_folder(tmp_path / "m", gz=False)
    labels = digits_like(60, 1)[1]
    labels[5] = 10
    write(folder / OFFICIAL[1], idx_bytes(labels))
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.9; item 5 is 10"):
        load_mnist(folder)


def test_missing_files_and_folders(tmp_path):
    folder = mnist_folder(tmp_path / "m")
    (folder / (OFFICIAL[3] + ".gz")).unlink()
    with pytest.raises(FileNotFoundError, match=r"lacks t10k-labels-idx1-ubyte\[\.gz\]"):
        load_mnist(folder)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        find_mnist_files(tmp_path / "nowhere")


# -- the tutorial's CSV -----------------------------------------------------------------------


def csv_text(images: np.ndarray, labels: np.ndarray) -> str:
    rows = [",".join(map(str, [int(k), *map(int, img.ravel())])) for img, k in zip(images, labels)]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize("gz", [False, True])
def test_csv_matches_the_idx_reading(tmp_path, gz):
    images, labels = digits_like(15, 3)
    path = write(tmp_path / "mnist_train.csv", csv_text(images, labels).encode(), gz)
    got = load_mnist_csv(path)
    assert isinstance(got, Digits) and got.inputs.shape == (15, 784)
    np.testing.assert_array_equal(got.labels, labels)
    np.testing.assert_allclose(got.inputs, images.reshape(15, -1) * 0.99 / 255 + 0.01, atol=1e-15)
    assert np.all(
        got.targets[np.arange(15), labels] == 0.99
    ) and got.targets.sum() == pytest.approx(15 * (0.99 + 9 * 0.01))
    assert len(load_mnist_csv(path, n=4)) == 4


def test_tutorial_csv_with_float_values(tmp_path):
    # the tutorial's files are sometimes saved by NumPy as floats: 5.0,0.0,...
    row = "3.0," + ",".join(["0.0"] * 783 + ["255.0"])
    got = load_mnist_csv(write(tmp_path / "f.csv", (row + "\n").encode()))
    assert got.labels.tolist() == [3] and got.inputs[0, -1] == pytest.approx(1.0)


def bad_csv(tmp_path, mutate) -> Path:
    lines = csv_text(*digits_like(4, 4)).splitlines()
    lines = mutate(lines)
    return write(tmp_path / "bad.csv", ("\n".join(lines) + "\n").encode())


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda ls: [*ls[:2], ls[2].rsplit(",", 1)[0], ls[3]], "not the tutorial's MNIST CSV"),
        (lambda ls: [ls[0], ls[1].replace(",", ",x", 1), *ls[2:]], "not the tutorial's MNIST CSV"),
        (lambda ls: [ls[0], ls[1] + ",0", *ls[2:]], "not the tutorial's MNIST CSV"),
        (lambda ls: [ls[0], "3" + ls[1][1:].replace(",0,", ",256,", 1), *ls[2:]],
         "line 2: grey levels must lie in 0..255"),
        (lambda ls: [*ls[:3], "12" + ls[3][1:]], r"line 4: the label must lie in 0..9, got 12"),
        (lambda ls: [ls[0], "1" + ls[1][1:].replace(",0,", ",0.5,", 1), *ls[2:]],
         "line 2: labels and grey levels must be whole numbers"),
        (lambda ls: [",".join(ls[0].split(",")[:100])] * 2, "expected 785 columns.*got 100"),
        (lambda ls: [], "no data"),
    ],
)  # fmt: skip
def test_bad_csv_files(tmp_path, mutate, message):
    path = bad_csv(tmp_path, mutate)
    with pytest.raises(ValueError, match=message) as info:
        load_mnist_csv(path)
    assert "bad.csv" in str(info.value)


# -- python -m autograd_lite train --data mnist -----------------------------------------------

ACCURACY = re.compile(r"^test accuracy: (\d\.\d{3}) \((\d+)/(\d+)\)$", re.M)


def test_cli_trains_on_mnist_files(tmp_path, capsys):
    folder = mnist_folder(tmp_path / "m", n_train=600, n_test=100)
    argv = ["train", "--data", "mnist", "--data-dir", str(folder), "--epochs", "2",
            "--hidden", "10", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "trained 784-10-10 on mnist for 2 epochs (lr 0.1, batch size 1, bias 0" in out
    match = ACCURACY.search(out)
    assert match and match.group(3) == "100"
    assert float(match.group(1)) >= 0.8  # the synthetic digits are easy


def test_cli_progress_shows_samples_per_second(tmp_path, capsys, monkeypatch):
    folder = mnist_folder(tmp_path / "m")
    argv = ["train", "--data", "mnist", "--data-dir", str(folder), "--hidden", "5"]
    assert main(argv) == 0
    assert "samples/s" in capsys.readouterr().err  # tqdm's rate
    monkeypatch.setitem(sys.modules, "tqdm", None)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert re.search(r"epoch 1/1 .* [\d,]+ samples/s", err), err


@pytest.mark.parametrize(
    "extra, message",
    [
        ([], "--data mnist needs --data-dir DIR"),
        (["--data-dir", "{empty}"], "lacks train-images-idx3-ubyte"),
        (["--data-dir", "{missing}"], "does not exist"),
    ],
)
def test_cli_without_mnist_files_is_a_plain_error(tmp_path, capsys, extra, message):
    (tmp_path / "empty").mkdir()
    extra = [a.format(empty=tmp_path / "empty", missing=tmp_path / "missing") for a in extra]
    assert main(["train", "--data", "mnist", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_cli_bad_mnist_file_is_a_plain_error(tmp_path, capsys):
    folder = mnist_folder(tmp_path / "m", gz=False)
    write(folder / OFFICIAL[0], idx_bytes(np.zeros(3, np.uint8)))
    assert main(["train", "--data", "mnist", "--data-dir", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "cannot read MNIST" in err and "wrong magic number 2049" in err


def test_cli_data_dir_needs_mnist(tmp_path, capsys):
    assert main(["train", "--data-dir", str(tmp_path)]) == 2
    assert "only used with --data mnist" in capsys.readouterr().err


# -- examples/mnist_tutorial.py --------------------------------------------------------------


def test_the_chapter_experiment_runs_quickly(tmp_path, capsys):
    folder = mnist_folder(tmp_path / "m", n_train=600, n_test=100)
    out = tmp_path / "results.md"
    example = runpy.run_path(str(EXAMPLE), run_name="example_mnist_tutorial")
    seeds = example["main"](["--data-dir", str(folder), "--quick", "--epochs", "2", "--seeds",
                             "2", "--out", str(out)])  # fmt: skip
    assert set(seeds) == {0, 1}
    runs = seeds[1]
    assert set(runs) == {"chapter", "outer", "gradient", "tutorial"}
    for run in runs.values():
        assert len(run.seconds) == 2 and len(run.accuracy) == 2
    # backward() took the same steps as the hand-written loop from the same weights
    assert runs["gradient"].accuracy == runs["chapter"].accuracy == runs["outer"].accuracy
    text = out.read_text()
    assert "| update rule | epochs | test accuracy" in text
    assert "| loop | seconds per epoch | steps per second | ratio to the chapter's code" in text
    assert "mean of 2 seeds" in text
    assert text.count('`update="tutorial"`') >= 3  # 2 accuracy rows and 1 timing row
    assert "wrote" in capsys.readouterr().out


def test_the_chapter_experiment_needs_a_folder(monkeypatch, capsys):
    monkeypatch.delenv("AUTOGRAD_LITE_MNIST", raising=False)
    example = runpy.run_path(str(EXAMPLE), run_name="example_mnist_tutorial")
    with pytest.raises(SystemExit) as info:
        example["main"]([])
    assert info.value.code == 2
    assert "--data-dir" in capsys.readouterr().err
