"""Checkpoints from strangers: every malformed file is refused with exit status 2 and one
line, by ``explain``, ``train`` and the app's entry, and a zip bomb costs neither memory
nor time."""

import functools
import io
import json
import os
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

import engine
from backprop_lab import entry
from cli import main as cli_main
from engine.checkpoint import MAX_BYTES, MAX_PARAMS, load_checkpoint, save_checkpoint
from engine.errors import CheckpointError, EngineError
from engine.data.limits import size_text
from engine.opening import open_run

N_TRAIN = 200  # xor: 400 samples, half for training


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A checkpoint of xor saved at step 17, mid-epoch (pos 96 of 200)."""
    path = tmp_path_factory.mktemp("valid") / "valid.npz"
    trainer = engine.Trainer(engine.load_preset("xor"))
    trainer.step(17)
    save_checkpoint(trainer, path)
    return path


def members(path) -> dict:
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def npy(value) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=True)
    return buf.getvalue()


def raw_npy(header: str, data: bytes = b"", version: int = 1, length: int | None = None) -> bytes:
    """A .npy member with a header written by hand (which np.save would never write)."""
    text = header.encode("latin1")
    size = len(text) if length is None else length
    prefix = b"\x93NUMPY" + bytes([version, 0]) + struct.pack("<H" if version == 1 else "<I", size)
    return prefix + text + data


def write_npz(path, arrays: dict, compression=zipfile.ZIP_STORED) -> None:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, value in arrays.items():
            zf.writestr(f"{name}.npy", value if isinstance(value, bytes) else npy(value))


def with_changes(base, **changes) -> dict:
    """The valid checkpoint's members with some replaced (None: removed)."""
    arrays = members(base)
    for key, value in changes.items():
        if value is None:
            arrays.pop(key)
        else:
            arrays[key] = value
    return arrays


def counters(**values) -> np.ndarray:
    c = {"step": 17, "epoch": 2, "pos": 96, "seed": 0, "elapsed": 0.5}
    c.update(values)
    return np.array(json.dumps({k: v for k, v in c.items() if v is not ...}))


def shuffle(**values) -> np.ndarray:
    s = np.random.default_rng([0, 1]).bit_generator.state
    s.update(values)
    return np.array(json.dumps(s))


def toml(base, old: str, new: str) -> np.ndarray:
    text = str(members(base)["preset_toml"])
    assert old in text
    return np.array(text.replace(old, new))


def order(values) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


PERM = list(range(N_TRAIN))
#: name -> (the members to write, a few words the refusal must contain)
CASES = {
    "missing params": (lambda b: with_changes(b, params=None), "missing params"),
    "missing counters": (lambda b: with_changes(b, counters=None), "missing counters"),
    "missing preset": (lambda b: with_changes(b, preset_toml=None), "missing preset_toml"),
    "missing layer shapes": (lambda b: with_changes(b, layer_shapes=None), "missing layer_shapes"),
    "no order mid-epoch": (lambda b: with_changes(b, order=None), "no saved order"),
    "unknown member": (lambda b: with_changes(b, extra=np.zeros(3)), "it holds 'extra.npy'"),
    "wrong format": (lambda b: with_changes(b, format=np.array("other/9")), "format 'other/9'"),
    "object params": (lambda b: with_changes(b, params=np.array([1.0, "x"], dtype=object)),
                      "dtype |O is not allowed"),
    "record params": (lambda b: with_changes(b, params=np.zeros(105, [("a", "f4")])),
                      "is not allowed; expected plain floats"),
    "int params": (lambda b: with_changes(b, params=np.zeros(105, np.int32)), "expected plain floats"),
    "2-D params": (lambda b: with_changes(b, params=np.zeros((105, 1), np.float32)), "expected 1 dimension"),
    "NaN params": (lambda b: with_changes(b, params=np.full(105, np.nan, np.float32)), "not all finite"),
    "float64 params": (lambda b: with_changes(b, params=np.zeros(105)), "params are float64"),
    "short params": (lambda b: with_changes(b, params=np.zeros(104, np.float32)),
                     "need 105 parameters, params holds 104"),
    "huge declared shape": (lambda b: with_changes(b, params=raw_npy(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }")),
        f"1,000,000,000,000 values; the limit is {MAX_PARAMS:,}"),
    "shape beyond the data": (lambda b: with_changes(b, params=raw_npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", bytes(420))),
        "declares 4,000 bytes of data, the member holds 420"),
    "header length lies": (lambda b: with_changes(b, params=raw_npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", version=2,
        length=0xFFFFFFF0)), "not a readable checkpoint"),
    "npy version 3": (lambda b: with_changes(b, params=raw_npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }", version=3)), "version (3, 0)"),
    "header not a dict": (lambda b: with_changes(b, params=raw_npy("[1, 2, 3]")), "not a readable checkpoint"),
    "1-D layer shapes": (lambda b: with_changes(b, layer_shapes=np.array([2, 8, 8, 1])),
                         "expected 2 dimensions"),
    "layer shapes by 3": (lambda b: with_changes(b, layer_shapes=np.ones((2, 3), np.int64)),
                          "must be (n_layers, 2)"),
    "negative layer size": (lambda b: with_changes(b, layer_shapes=np.array([[2, -8], [-8, 8], [8, 1]])),
                            "sizes from 1 to"),
    "layers do not chain": (lambda b: with_changes(b, layer_shapes=np.array([[2, 8], [7, 8], [8, 1]])),
                            "do not chain"),
    "float layer shapes": (lambda b: with_changes(b, layer_shapes=np.array([[2., 8.], [8., 8.], [8., 1.]])),
                           "expected plain ints"),
    "counters not JSON": (lambda b: with_changes(b, counters=np.array("{step: 1")), "counters is not valid JSON"),
    "counters a list": (lambda b: with_changes(b, counters=np.array("[1, 2]")), "got list"),
    "counters nested": (lambda b: with_changes(b, counters=counters(step={"a": 1})), "step must be an integer"),
    "counters deep": (lambda b: with_changes(b, counters=np.array("[" * 4000 + "]" * 4)),
                      "counters is not valid JSON"),
    "step as text": (lambda b: with_changes(b, counters=counters(step="17")), "got \"17\""),
    "step as bool": (lambda b: with_changes(b, counters=counters(step=True)), "got true"),
    "step as float": (lambda b: with_changes(b, counters=counters(step=17.0)), "got 17.0"),
    "negative step": (lambda b: with_changes(b, counters=counters(step=-1)), "step must be an integer from 0"),
    "huge step": (lambda b: with_changes(b, counters=counters(step=10**400)), "step must be an integer from 0"),
    "epoch past step": (lambda b: with_changes(b, counters=counters(epoch=18)), "epoch 18 is past step 17"),
    "huge seed": (lambda b: with_changes(b, counters=counters(seed=2**64)), "seed must be an integer"),
    "NaN elapsed": (lambda b: with_changes(b, counters=np.array(
        '{"step": 17, "epoch": 2, "pos": 96, "seed": 0, "elapsed": NaN}')), "elapsed must be a finite"),
    "overflowing elapsed": (lambda b: with_changes(b, counters=np.array(
        '{"step": 17, "epoch": 2, "pos": 96, "seed": 0, "elapsed": 1e999}')), "elapsed must be a finite"),
    "negative elapsed": (lambda b: with_changes(b, counters=counters(elapsed=-1)), "elapsed must be a finite"),
    "missing counter": (lambda b: with_changes(b, counters=counters(pos=...)), "exactly step, epoch, pos"),
    "extra counter": (lambda b: with_changes(b, counters=counters(lr=1)), "exactly step, epoch, pos"),
    "pos past the data": (lambda b: with_changes(b, counters=counters(pos=500)), "does not fit the 200"),
    "shuffle of MT19937": (lambda b: with_changes(b, shuffle_state=shuffle(bit_generator="MT19937")),
                           "bit_generator 'PCG64'"),
    "shuffle a list": (lambda b: with_changes(b, shuffle_state=np.array("[1, 2]")), "must be a PCG64 state"),
    "shuffle float state": (lambda b: with_changes(b, shuffle_state=shuffle(state={"state": 1.5, "inc": 3})),
                            "state.state must be an integer"),
    "shuffle even inc": (lambda b: with_changes(b, shuffle_state=shuffle(state={"state": 1, "inc": 4})),
                         "state.inc is always odd"),
    "shuffle huge state": (lambda b: with_changes(b, shuffle_state=shuffle(state={"state": 2**128, "inc": 3})),
                           "state.state must be an integer"),
    "shuffle has_uint32 2": (lambda b: with_changes(b, shuffle_state=shuffle(has_uint32=2)), "has_uint32"),
    "shuffle extra key": (lambda b: with_changes(b, shuffle_state=shuffle(extra=1)), "with keys"),
    "order out of range": (lambda b: with_changes(b, order=order(PERM[:-1] + [10**9])), "a permutation"),
    "order negative": (lambda b: with_changes(b, order=order([-1] + PERM[1:])), "a permutation"),
    "order repeats": (lambda b: with_changes(b, order=order([0] + PERM[:-1])), "a permutation"),
    "order too short": (lambda b: with_changes(b, order=order(PERM[:150])), "does not fit the 200"),
    "order 2-D": (lambda b: with_changes(b, order=order([PERM])), "expected 1 dimension"),
    "order of floats": (lambda b: with_changes(b, order=np.arange(200.0)), "expected plain ints"),
    "unknown optimizer": (lambda b: with_changes(b, optimizer=np.array("lbfgs")), "optimizer 'lbfgs' is not known"),
    "other optimizer": (lambda b: with_changes(b, optimizer=np.array("sgd")), "is not state of 'sgd'"),
    "optimizer state short": (lambda b: with_changes(b, opt_exp_avg=np.zeros(7, np.float32)),
                              "opt_exp_avg has 7 values, params has 105"),
    "negative opt steps": (lambda b: with_changes(b, opt_steps=np.array(-3)), "opt_steps must be an integer"),
    "text as bytes": (lambda b: with_changes(b, counters=np.array(b"{}")), "expected a string"),
    "bad code point": (lambda b: with_changes(b, counters=raw_npy(
        "{'descr': '<U1', 'fortran_order': False, 'shape': (), }", b"\x00\xd8\x00\x00")),
        "not a readable checkpoint (UnicodeDecodeError"),
    "preset not TOML": (lambda b: with_changes(b, preset_toml=np.array("title = ")), "stored config is invalid"),
    "preset enormous": (lambda b: with_changes(b, preset_toml=np.array("#" * 70_000)),
                        "a text of 70,000 characters; the limit is 65,536"),
    "preset nested array": (lambda b: with_changes(b, preset_toml=np.array("x = " + "[" * 30_000)),
                            "stored config"),
    "preset nested table": (lambda b: with_changes(b, preset_toml=toml(b, "samples = 400", "samples = {a = {b = 1}}")),
                            "data.samples"),
    "preset huge number": (lambda b: with_changes(b, preset_toml=toml(b, "samples = 400", "samples = " + "9" * 400)),
                           "stored config"),
    "preset wider than its weights": (lambda b: with_changes(b, preset_toml=toml(
        b, "{ units = 8, activation = \"tanh\" },\n]", "{ units = 4096, activation = \"tanh\" },\n]")),
        "hidden layers of [8, 4096] units"),
    "preset of other data": (lambda b: with_changes(b, preset_toml=toml(
        b, 'features = [\n    "x1",\n    "x2",\n]', 'features = ["x1", "x2", "x1*x2"]')),
        "layer 0 W has shape (2, 8), the config's network has (3, 8)"),
    "too many members": (lambda b: {**with_changes(b), **{f"opt_x{i}": np.zeros(1) for i in range(20)}},
                         "members; a checkpoint has at most 16"),
}


def refused_everywhere(path, capsys, monkeypatch, expect: str | None = None) -> list[str]:
    """Run ``explain``, ``train`` and the app's entry on ``path``; each must refuse with
    exit status 2 and one line. Returns the lines."""
    from tui.app import BackpropLab

    def app_started(self, *args, **kwargs):
        pytest.fail(f"the app started on {path}")

    monkeypatch.setattr(BackpropLab, "run", app_started)
    lines = []
    for run in (lambda: cli_main(["explain", str(path)]),
                lambda: cli_main(["train", str(path), "--epochs", "1"]),
                lambda: entry.main([str(path)])):
        status = run()
        out, err = capsys.readouterr()
        assert status == 2, (path.name, out, err)
        assert out == "" and "Traceback" not in err
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert len(err) <= 300, err
        assert err.startswith("backprop-lab: ")
        if expect is not None:
            assert expect in err, err
        lines.append(err)
    return lines


def test_the_valid_checkpoint_and_its_rewrite_open(valid, tmp_path, capsys):
    """The cases below start from these files; both must be fine as they are."""
    rewritten = tmp_path / "rewritten.npz"
    write_npz(rewritten, with_changes(valid))
    for path in (valid, rewritten):
        assert cli_main(["train", str(path), "--epochs", "1"]) == 0
        out = capsys.readouterr().out
        assert "epochs: 3  steps: 21" in out  # from epoch 2, one more: 7 steps an epoch
        assert open_run(str(path)).trainer().step_count == 17


@pytest.mark.parametrize("case", list(CASES))
def test_malformed_checkpoint_is_refused_with_one_line(case, valid, tmp_path, capsys, monkeypatch):
    make, expect = CASES[case]
    path = tmp_path / "bad.npz"
    write_npz(path, make(valid))
    lines = refused_everywhere(path, capsys, monkeypatch, expect)
    assert lines[0] == lines[1] == lines[2]


@pytest.mark.parametrize("size", [0, 10, 100, 1000, 5000, -22, -1])
def test_truncated_checkpoint_is_refused(size, valid, tmp_path, capsys, monkeypatch):
    data = valid.read_bytes()
    path = tmp_path / "cut.npz"
    path.write_bytes(data[:size] if size >= 0 else data[:len(data) + size])
    refused_everywhere(path, capsys, monkeypatch)


def test_bit_flips_are_refused_or_harmless(valid, tmp_path, capsys, monkeypatch):
    """A flipped bit is refused with one line, unless it hit a byte nothing reads (a
    timestamp, say): then the file opens with every array as it was."""
    data = bytearray(valid.read_bytes())
    original = members(valid)
    rng = np.random.default_rng(13)
    refused = 0
    for i, at in enumerate(rng.choice(len(data), 40, replace=False)):
        flipped = bytearray(data)
        flipped[at] ^= 1 << int(rng.integers(8))
        path = tmp_path / f"flip{i}.npz"
        path.write_bytes(bytes(flipped))
        try:
            load_checkpoint(path)
            open_run(str(path)).trainer()
        except EngineError:
            refused_everywhere(path, capsys, monkeypatch)
            refused += 1
        else:
            got = members(path)
            assert got.keys() == original.keys()
            assert all(np.array_equal(got[k], original[k]) for k in got), at
    assert refused >= 30  # almost every byte of a checkpoint is data under a CRC


def test_other_things_named_npz_are_refused(tmp_path, capsys, monkeypatch):
    cases = {"noise.npz": "not a readable checkpoint (not a zip file)",
             "folder.npz": "is a folder", "fifo.npz": "not a regular file",
             "nothere.npz": "no such file", "bzip2.npz": "zip compression method 12"}
    (tmp_path / "noise.npz").write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "folder.npz").mkdir()
    os.mkfifo(tmp_path / "fifo.npz")  # opening it for reading must not wait for a writer
    write_npz(tmp_path / "bzip2.npz", {"params": np.zeros(3)}, zipfile.ZIP_BZIP2)
    for name, expect in cases.items():
        start = time.perf_counter()
        refused_everywhere(tmp_path / name, capsys, monkeypatch, expect)
        assert time.perf_counter() - start < 5


@functools.cache
def deflated_zeros() -> bytes:
    """16 MiB of zeros as deflate blocks that stand alone (the window is flushed)."""
    zeros = zlib.compressobj(9, zlib.DEFLATED, -15)
    return zeros.compress(ZeroReplay.CHUNK) + zeros.flush(zlib.Z_FULL_FLUSH)


class ZeroReplay:
    """A deflate 'compressor' for the zip bomb: 16 MiB of zeros are compressed once and
    replayed, so a real 2 GiB member is written in well under a second."""

    CHUNK = bytes(1 << 24)

    def __init__(self):
        self.other = zlib.compressobj(9, zlib.DEFLATED, -15)

    def compress(self, data):
        if data is self.CHUNK:
            return deflated_zeros()
        return self.other.compress(data) + self.other.flush(zlib.Z_FULL_FLUSH)

    def flush(self):
        return self.other.flush()


@pytest.fixture(scope="module")
def zip_bomb(valid, tmp_path_factory):
    """The valid checkpoint with params replaced by 2 GiB of zeros, deflated to ~2 MB."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.npz"
    n = (1 << 31) // 8
    header = raw_npy("{'descr': '<f8', 'fortran_order': False, 'shape': (%d,), }" % n)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(zipfile, "_get_compressor", lambda *a, **k: ZeroReplay())
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, value in with_changes(valid, params=None).items():
                zf.writestr(f"{name}.npy", npy(value))
            with zf.open("params.npy", "w", force_zip64=True) as fh:
                fh.write(header)
                for _ in range((1 << 31) // len(ZeroReplay.CHUNK)):
                    fh.write(ZeroReplay.CHUNK)
    return path


def test_the_zip_bomb_is_real(zip_bomb):
    info = zipfile.ZipFile(zip_bomb).getinfo("params.npy")
    assert info.file_size > 2 * 10**9 and zip_bomb.stat().st_size < 5 * 10**6
    with zipfile.ZipFile(zip_bomb).open("params.npy") as fh:  # it inflates as declared
        head = fh.read(1 << 20)
    assert head.startswith(b"\x93NUMPY") and head[-1000:] == bytes(1000)


def test_zip_bomb_is_refused_before_inflating(zip_bomb, capsys, monkeypatch):
    tracemalloc.start()
    start = time.perf_counter()
    with pytest.raises(CheckpointError) as refusal:
        load_checkpoint(zip_bomb)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    message = str(refusal.value)
    assert f"GB uncompressed; the limit for a checkpoint is {size_text(MAX_BYTES)}" in message
    assert seconds < 1.0
    assert peak < 16 << 20  # bytes: nothing near the 2 GiB it would inflate to
    refused_everywhere(zip_bomb, capsys, monkeypatch,
                       f"the limit for a checkpoint is {size_text(MAX_BYTES)}")


def test_a_huge_header_in_a_small_file_allocates_nothing(valid, tmp_path):
    path = tmp_path / "shape.npz"
    write_npz(path, with_changes(valid, opt_exp_avg=raw_npy(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (19000000,), }")))
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    with pytest.raises(CheckpointError, match="declares 76,000,000 bytes of data, the member holds 0"):
        load_checkpoint(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 4 << 20


def test_a_refused_restore_changes_nothing(valid, tmp_path):
    path = tmp_path / "far.npz"
    write_npz(path, with_changes(valid, counters=counters(pos=500)))
    ckpt = load_checkpoint(path)
    trainer = engine.Trainer(engine.load_preset("xor"))
    trainer.step(3)
    before = (trainer.network.params.copy(), trainer.state(),
              {k: v.copy() for k, v in trainer.optimizer.state.items()}, trainer.optimizer.steps)
    with pytest.raises(CheckpointError, match="does not fit the 200 training samples"):
        engine.checkpoint.restore(trainer, ckpt, "far.npz")
    assert np.array_equal(trainer.network.params, before[0])
    after = trainer.state()
    assert {k: after[k] for k in ("step", "epoch", "pos")} == {"step": 3, "epoch": 0, "pos": 96}
    assert np.array_equal(after["order"], before[1]["order"])
    assert after["shuffle_state"] == before[1]["shuffle_state"]
    assert trainer.optimizer.steps == before[3] == 3
    assert all(np.array_equal(trainer.optimizer.state[k], v) for k, v in before[2].items())


def test_every_optimizers_state_is_in_the_schema():
    """The schema names the state arrays each optimizer keeps; a new one must be added."""
    from engine.checkpoint_fields import OPTIMIZER_STATE

    for name, extra in (("sgd", {"momentum": 0.9}), ("rmsprop", {"momentum": 0.9}), ("adam", {})):
        preset = engine.load_preset("xor")
        config = preset.config.with_value("training.optimizer", name)
        for key, value in extra.items():
            config = config.with_value(f"training.{key}", value)
        trainer = engine.Trainer(config)
        trainer.step(2)
        assert set(trainer.optimizer.state) == set(OPTIMIZER_STATE[name])
