"""Hostile presets, CSV files and flags: each is refused with exit status 2 and one short
line, never a traceback, a hang or a word of a file's content."""

from __future__ import annotations

import os
import random
import signal
from contextlib import contextmanager

import pytest

import engine.data.csv_text as csv_text
import engine.data.limits as limits
import engine.data.tables as tables
from backprop_lab.entry import main as entry_main
from cli import main as cli_main

SECRET = "root:$6$Zq8secret$hunter2hash:19000:0:99999:7:::"
HEAD = 'title = "t"\nlesson = "l"\n'


@contextmanager
def deadline(seconds: float):
    """Fail (instead of hanging) when the block takes longer than ``seconds``."""
    def expired(signum, frame):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def refused(capsys, argv, *, main=cli_main, secret: str | None = SECRET) -> str:
    """Run a command that must be refused; returns its one line."""
    with deadline(20):
        code = main(argv)
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert code == 2, (argv, out, err)
    assert len(lines) == 1 and err.endswith("\n"), err
    assert len(lines[0]) <= 300, lines[0]
    assert "Traceback" not in err and out == ""
    if secret:
        for part in (secret, "hunter2", "Zq8secret"):
            assert part not in err
    return lines[0]


def both_refused(capsys, path, secret: str | None = SECRET) -> tuple[str, str]:
    return (refused(capsys, ["check", str(path)], secret=secret),
            refused(capsys, ["train", str(path), "--epochs", "1"], secret=secret))


def csv_preset(tmp_path, csv_path, *, label="y", task="classification", name="p.toml"):
    path = tmp_path / name
    path.write_text(HEAD + f'[data]\ndataset = "csv"\npath = "{csv_path}"\nlabel = "{label}"\n'
                           f'task = "{task}"\n', encoding="utf-8")
    return path


# ----- presets -------------------------------------------------------------------------
BAD_PRESETS = {
    "bad toml": HEAD + "[data\nsamples = 3\n",
    "deep arrays": HEAD + "x = " + "[" * 1000 + "]" * 1000 + "\n",
    "deep inline tables": HEAD + "x = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n",
    "deep dotted key": HEAD + "a" + ".a" * 3000 + " = 1\n",
    "deep table header": HEAD + "[" + ".".join(["t"] * 3000) + "]\n",
    "400-digit samples": HEAD + "[data]\nsamples = " + "9" * 400 + "\n",
    "5000-digit samples": HEAD + "[data]\nsamples = " + "9" * 5000 + "\n",
    "batch_size inf": HEAD + "[training]\nbatch_size = inf\n",
    "batch_size nan": HEAD + "[training]\nbatch_size = nan\n",
    "batch_size huge": HEAD + "[training]\nbatch_size = " + "9" * 400 + "\n",
    "lr nan": HEAD + "[training]\nlr = nan\n",
    "lr huge": HEAD + "[training]\nlr = 1e308\n",
    "lr -inf": HEAD + "[training]\nlr = -inf\n",
    "init_std huge": HEAD + "[model]\ninit = 'normal'\ninit_std = 1e300\n",
    "huge seed": HEAD + "[training]\nseed = " + "1" * 40 + "\n",
    "epochs float": HEAD + "[training]\nepochs = 1e12\n",
    "1 MB key in a section": HEAD + "[training]\n" + "k" * 1_000_000 + " = 1\n",
    "1 MB key at the top": HEAD + "q" * 1_000_000 + " = 1\n",
    "1 MB quoted key with newlines": HEAD + '[data]\n"' + "a\\n" * 300_000 + '" = 1\n',
    "1 MB value": HEAD + "[data]\nlabel = '" + "v" * 1_000_000 + "'\ndataset = 'csv'\npath = 'x.csv'\n",
    "long title": HEAD.replace('"t"', '"' + "t" * 5000 + '"'),
    "samples a string": HEAD + "[data]\nsamples = 'many'\n",
    "layers a number": HEAD + "[model]\nlayers = 5\n",
    "layers of numbers": HEAD + "[model]\nlayers = [1, 2]\n",
    "data a number": HEAD + "data = 3\n",
    "features a number": HEAD + "[data]\nfeatures = 7\n",
    "dataset a list": HEAD + "[data]\ndataset = ['circle']\n",
    "seed a table": HEAD + "[data.seed]\na = {b = {c = 1}}\n",
    "a date": HEAD + "[training]\nlr = 1979-05-27\n",
    "unknown section": HEAD + "[foo]\nx = 1\n",
    "unknown nested section": HEAD + "[model.extra]\nx = 1\n",
    "no title": 'lesson = "l"\n',
    "too big for memory": HEAD + "[model]\ndtype = 'float64'\nlayers = ["
                          + ", ".join(["{units = 4096}"] * 32) + "]\n",
}


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 8 GB available: the memory refusals do not depend on the host."""
    monkeypatch.setattr(limits, "available_memory", lambda: 8_000_000_000)


@pytest.mark.parametrize("name", list(BAD_PRESETS))
def test_bad_preset_is_refused_in_one_line(capsys, tmp_path, small_machine, name):
    path = tmp_path / "bad.toml"
    path.write_text(BAD_PRESETS[name], encoding="utf-8")
    check, train = both_refused(capsys, path)
    assert check == train


def test_refusals_name_the_key_path_and_cut_long_values(capsys, tmp_path, small_machine):
    def line(text: str) -> str:
        path = tmp_path / "p.toml"
        path.write_text(text, encoding="utf-8")
        return refused(capsys, ["check", str(path)])

    assert "data.samples: an integer with 400 digits is not allowed" in line(
        BAD_PRESETS["400-digit samples"])
    assert "training.batch_size: inf is not allowed" in line(BAD_PRESETS["batch_size inf"])
    assert "training.lr: nan is not allowed" in line(BAD_PRESETS["lr nan"])
    assert "nested more than 10 deep" in line(BAD_PRESETS["deep arrays"])
    assert "…" in line(BAD_PRESETS["1 MB key in a section"])
    assert "…" in line(BAD_PRESETS["1 MB value"])
    big = line(BAD_PRESETS["too big for memory"])
    assert "model.layers[0].units: this run needs about" in big
    assert "allowed (half the available memory); use fewer units" in big


def test_a_preset_that_is_not_a_regular_file(capsys, tmp_path):
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    assert "is a FIFO; only a regular file can be read" in both_refused(capsys, fifo)[0]
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    both_refused(capsys, folder)
    link = tmp_path / "zero.toml"
    link.symlink_to("/dev/zero")
    assert "is a device" in both_refused(capsys, link)[0]
    binary = tmp_path / "binary.toml"
    binary.write_bytes(bytes(range(256)) * 40)
    both_refused(capsys, binary)
    huge = tmp_path / "huge.toml"
    huge.write_text(HEAD + "# " + "x" * 2_100_000 + "\n", encoding="utf-8")
    assert "more than the 2,000,000 a preset may have" in both_refused(capsys, huge)[0]


# ----- CSV files -----------------------------------------------------------------------
def write_csv(tmp_path, text: str | bytes, name="d.csv"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


BAD_CSVS = {
    "a secret first line": SECRET + "\n",
    "a secret header and a bad row": f"{SECRET},y\n1,0\n2,1,3\n",
    "a secret cell": f"a,y\n1,0\n{SECRET},1\n",
    "a secret as the only class": f"a,y\n1,{SECRET}\n2,{SECRET}\n",
    "a secret in a quoted cell": f'a,y\n"1",0\n"{SECRET}",1\n',
    "bad quoting": f'a,y\n1,0\n"{SECRET}"x,1\n',
    "nan cell": "a,b,y\n1,2,0\n3,nan,1\n",
    "inf cell": "a,b,y\n1,2,0\n-inf,3,1\n",
    "overflowing number": "a,y\n1,0\n1e999,1\n",
    "empty cell": "a,b,y\n1,,0\n",
    "ragged row": f"a,b,y\n1,2,0\n{SECRET},1,2,3\n",
    "no label column": "a,b\n1,2\n",
    "empty file": "",
    "header only": "a,y\n",
    "duplicate header": "a,a,y\n1,2,0\n",
    "binary": bytes(range(256)) * 64,
    "NUL bytes": b"a,y\n1,0\n\0\0\0,1\n",
    "not UTF-8": "a,y\n1,0\n".encode() + "é,1\n".encode("latin-1"),
    "one class": "a,y\n1,0\n2,0\n",
}


@pytest.mark.parametrize("name", list(BAD_CSVS))
def test_bad_csv_is_refused_without_its_content(capsys, tmp_path, name):
    csv_path = write_csv(tmp_path, BAD_CSVS[name])
    check, train = both_refused(capsys, csv_preset(tmp_path, csv_path))
    assert str(csv_path) in check


def test_nan_in_the_data_names_line_and_column(capsys, tmp_path):
    csv_path = write_csv(tmp_path, "a,b,y\n1,2,0\n\n3,nan,1\n")
    check, train = both_refused(capsys, csv_preset(tmp_path, csv_path))
    assert train.endswith(f"{csv_path}, line 4, column 2: NaN or infinite; every feature must "
                          "be a finite number")
    target = write_csv(tmp_path, "a,y\n1,0.5\n2,inf\n", "r.csv")
    _, train = both_refused(capsys, csv_preset(tmp_path, target, task="regression", name="r.toml"))
    assert "line 3, column 2: NaN or infinite; the label (a regression target)" in train


def test_csv_paths_that_are_not_regular_files(capsys, tmp_path):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)  # opening it to read would block: it must never be opened
    for target in (fifo, tmp_path, "/dev/zero", "/dev/null"):
        check, _ = both_refused(capsys, csv_preset(tmp_path, target))
        assert "only a regular file can be read" in check or "is a folder" in check
    link = tmp_path / "zero.csv"
    link.symlink_to("/dev/zero")
    assert "is a device" in both_refused(capsys, csv_preset(tmp_path, link))[0]


def test_csv_caps_name_their_limits(capsys, tmp_path, monkeypatch):
    rows = write_csv(tmp_path, "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(50)))
    monkeypatch.setattr(tables, "MAX_CSV_ROWS", 20)
    assert "more than the 20 data rows a CSV file may have" in both_refused(
        capsys, csv_preset(tmp_path, rows))[0]
    monkeypatch.setattr(csv_text, "MAX_CSV_BYTES", 100)
    assert "more than the 100 B a CSV file may be" in both_refused(
        capsys, csv_preset(tmp_path, rows))[0]
    monkeypatch.undo()
    monkeypatch.setattr(csv_text, "MAX_LINE_CHARS", 50)
    long = write_csv(tmp_path, "a,y\n1,0\n" + "1" * 200 + ",1\n", "long.csv")
    assert "line 3: longer than the 50 characters a line may have" in both_refused(
        capsys, csv_preset(tmp_path, long))[0]
    monkeypatch.setattr(tables, "MAX_CSV_COLUMNS", 5)
    wide = write_csv(tmp_path, ",".join(f"c{i}" for i in range(9)) + ",y\n", "wide.csv")
    assert "more than the 5 columns" in both_refused(capsys, csv_preset(tmp_path, wide))[0]
    monkeypatch.setattr(tables, "MAX_CLASSES", 3)
    many = write_csv(tmp_path, "a,y\n" + "".join(f"{i},c{i}\n" for i in range(10)), "many.csv")
    assert "more than 3 classes" in both_refused(capsys, csv_preset(tmp_path, many))[0]


def test_a_csv_too_big_for_memory(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 20_000)
    rows = write_csv(tmp_path, "a,b,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(2000)))
    check, _ = both_refused(capsys, csv_preset(tmp_path, rows))
    assert "allowed (half the available memory)" in check


# ----- fuzzing -------------------------------------------------------------------------
GOOD_PRESET = HEAD + """pace = 30
[data]
dataset = "spiral"
samples = 60
classes = 3
noise = 0.1
features = ["x1", "x2", "x1*x2"]
[model]
layers = [{units = 6, activation = "tanh"}, {units = 4, activation = "relu"}]
[training]
optimizer = "adam"
lr = 0.01
batch_size = 16
epochs = 5
"""
GOOD_CSV = "a,b,label\n" + "".join(f"{i * 0.5},{(i * 7) % 5},{'SECRETCLASS' if i % 2 else 'x'}\n"
                                   for i in range(30))
JUNK = ["[", "]", "{", "}", "=", '"', "'", "\n", ",", "nan", "inf", "-", "9" * 30, "\0", "é",
        "\\", "#", ".", "1e999", " ", "[[", "true", "x" * 300]


def mutants(text: str, n: int, seed: int):
    rng = random.Random(seed)
    for _ in range(n):
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(chars))
            kind = rng.random()
            if kind < 0.4:
                chars[i] = rng.choice(JUNK)
            elif kind < 0.7:
                del chars[i:i + rng.randint(1, 20)]
            else:
                chars.insert(i, rng.choice(JUNK))
        yield "".join(chars)


def accepted_or_refused(capsys, argv, secret="SECRETCLASS"):
    with deadline(20):
        code = cli_main(argv)
    out, err = capsys.readouterr()
    assert code in (0, 2) and "Traceback" not in err
    assert secret not in err and secret not in out
    if code == 2:
        assert len(err.splitlines()) == 1 and len(err) <= 301, err


def test_fuzzed_presets(capsys, tmp_path):
    path = tmp_path / "f.toml"
    for i, text in enumerate(mutants(GOOD_PRESET, 150, seed=13)):
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        accepted_or_refused(capsys, ["check", str(path)])
        if i % 10 == 0:
            accepted_or_refused(capsys, ["train", str(path), "--epochs", "1"])


def test_fuzzed_csv_files(capsys, tmp_path):
    csv_path = tmp_path / "d.csv"
    preset = csv_preset(tmp_path, csv_path, label="label")
    for i, text in enumerate(mutants(GOOD_CSV, 150, seed=7)):
        csv_path.write_text(text, encoding="utf-8")
        accepted_or_refused(capsys, ["check", str(preset)])
        if i % 10 == 0:
            accepted_or_refused(capsys, ["train", str(preset), "--epochs", "1"])


# ----- flags and commands --------------------------------------------------------------
@pytest.mark.parametrize("argv,message", [
    (["train", "xor", "--epochs", "1000000000000"], "--epochs must be >= 0 and <= 10,000,000"),
    (["train", "xor", "--epochs", "1e12"], "invalid int value"),
    (["train", "xor", "--epochs", "-1"], "--epochs must be >= 0"),
    (["train", "xor", "--seed", "9" * 400], "training.seed: an integer with 400 digits"),
    (["train", "xor", "--set", "k" * 1_000_000 + "=1"], "--set: kkkkkkkkkkkkkkkkkkkk…kkkkkkkkk: unknown key"),
    (["train", "xor", "--set", "training.lr=" + "[" * 5000], "training.lr:"),
    (["train", "xor", "--set", "training.batch_size=inf"], "training.batch_size: inf is not allowed"),
    (["explain", "xor", "--step", "2000000"], "--step must be >= 0 and <= 1,000,000"),
    (["compare", "xor", "--vary", "training.lr=0.1", "--seeds", "1000"], "--seeds must be >= 1 and <= 100"),
    (["compare", "xor", "--vary", "training.lr=0.1", "--steps", "10000000000"], "--steps must be >= 0"),
    (["compare", "xor", "--vary", "training.lr=0.1", "--epochs", "99999999999"], "--epochs must be"),
    (["compare", "xor", "--vary", "training.lr=" + ",".join(["0.1"] * 1001)], "more than the 1,000"),
    (["compare", "xor", "--vary", "training.lr=" + ",".join(["0.1"] * 40),
      "--vary", "training.seed=" + ",".join(map(str, range(40)))], "more than the 1,000 variants"),
])
def test_flag_caps(capsys, argv, message):
    assert message in refused(capsys, argv, secret=None)


def test_compare_and_explain_refuse_a_config_too_big_for_memory(capsys, tmp_path, small_machine):
    deep = tmp_path / "deep.toml"
    deep.write_text(HEAD + "[model]\nlayers = [" + ", ".join(["{units = 8}"] * 12) + "]\n")
    line = refused(capsys, ["compare", str(deep), "--vary", "model.layers[*].units=8,4096",
                            "--steps", "1"], secret=None)
    assert "model.layers[0].units: this run needs about" in line
    big = tmp_path / "big.toml"
    big.write_text(BAD_PRESETS["too big for memory"])
    assert "this run needs about" in refused(capsys, ["explain", str(big)], secret=None)


def test_a_secret_header_is_never_printed(capsys, tmp_path):
    csv_path = write_csv(tmp_path, f"{SECRET},y\n1,0\n2,1\n")
    with deadline(20):
        assert cli_main(["check", str(csv_preset(tmp_path, csv_path))]) == 0
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err


def test_a_misspelled_command(capsys):
    line = refused(capsys, ["trian", "xor"], main=entry_main, secret=None)
    assert line == "backprop-lab: unknown command 'trian'; did you mean 'train'?"
    line = refused(capsys, ["chekc"], main=entry_main, secret=None)
    assert line == "backprop-lab: unknown command 'chekc'; did you mean 'check'?"
