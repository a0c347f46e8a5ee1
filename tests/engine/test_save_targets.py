"""Saving replaces only a regular file: what else is at the target is refused with one
line and left as it was; temporary files are named, cleaned up and never left behind;
modes follow the umask; a failed or interrupted ``train --save`` keeps what was trained."""

import errno
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

import engine
from cli import main as cli_main
from engine.atomic import STALE_AFTER, remove_stale, write_atomic
from engine.checkpoint import load_checkpoint, save_checkpoint
from engine.errors import EngineError
from engine.opening import open_run
from engine.presets import save_preset

TMP_NAME = re.compile(r"\.run\.npz\.backprop-lab-tmp-[0-9a-f]{8}")


@pytest.fixture(scope="module")
def trainer():
    tr = engine.Trainer(engine.load_preset("xor"))
    tr.step(10)
    return tr


def refused(path, expect: str) -> str:
    with pytest.raises(EngineError) as refusal:
        write_atomic(path, b"new bytes")
    message = str(refusal.value)
    assert expect in message and "\n" not in message and len(message) <= 300, message
    return message


def test_a_fifo_is_refused_and_left_alone(tmp_path):
    fifo = tmp_path / "run.npz"
    os.mkfifo(fifo)
    start = time.perf_counter()
    message = refused(fifo, "it is a FIFO (named pipe); a save replaces only a regular file")
    assert message.startswith(f"cannot save to {fifo}: ")
    assert time.perf_counter() - start < 1  # never opened, so never waiting for a reader
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["run.npz"]


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s.npz"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        refused(path, "it is a socket; a save replaces only a regular file")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)


@pytest.mark.parametrize("points_at", ["file", "fifo", "nothing", "folder"])
def test_a_symlink_is_refused_whatever_it_points_at(tmp_path, points_at):
    target = tmp_path / "target"
    if points_at == "file":
        target.write_bytes(b"precious")
    elif points_at == "fifo":
        os.mkfifo(target)
    elif points_at == "folder":
        target.mkdir()
    link = tmp_path / "run.npz"
    link.symlink_to(target)
    refused(link, "it is a symbolic link; a save replaces only a regular file, so name the file itself")
    assert os.readlink(link) == str(target)
    if points_at == "file":
        assert target.read_bytes() == b"precious"
    assert sorted(os.listdir(tmp_path)) == sorted(["run.npz"] + (["target"] if points_at != "nothing" else []))


def test_folders_missing_folders_and_files_as_folders_are_refused(tmp_path):
    (tmp_path / "dir").mkdir()
    (tmp_path / "plain").write_bytes(b"x")
    refused(tmp_path / "dir", "it is a folder; name a file in it")
    refused(f"{tmp_path}/new/", "that names a folder; name a file in it")
    refused(tmp_path / "nope" / "run.npz", f"the folder {tmp_path / 'nope'} does not exist")
    refused(tmp_path / "plain" / "run.npz", f"{tmp_path / 'plain'} is not a folder")
    with pytest.raises(EngineError, match=r"^cannot save: no file name given \(the path is empty\)$"):
        write_atomic("", b"x")
    assert sorted(os.listdir(tmp_path)) == ["dir", "plain"] and os.listdir(tmp_path / "dir") == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into a read-only folder anyway; "
                    "the refusal of a folder one cannot write to is tested as non-root")
def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        refused(folder / "run.npz", f"cannot write in {folder} (Permission denied)")
    finally:
        folder.chmod(0o700)
    assert os.listdir(folder) == []


@pytest.mark.parametrize("code", [errno.EACCES, errno.EROFS])
def test_a_folder_that_refuses_the_temporary_file_gives_one_line(tmp_path, monkeypatch, code):
    """As root a read-only folder cannot be made here, so the folder's refusal is simulated
    where the temporary file is created."""
    real_open = os.open

    def refusing_open(path, flags, *args):
        if ".backprop-lab-tmp-" in os.fspath(path):
            raise OSError(code, os.strerror(code), path)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    refused(tmp_path / "run.npz", f"cannot write in {tmp_path} ({os.strerror(code)})")
    assert os.listdir(tmp_path) == []


def test_a_long_path_is_cut_in_the_message(tmp_path):
    path = tmp_path / ("d" * 200) / "run.npz"
    message = refused(path, "does not exist")
    assert "…" in message and len(message) < 260


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_follows_the_umask(tmp_path, trainer, umask, mode):
    old = os.umask(umask)
    try:
        save_checkpoint(trainer, tmp_path / "run.npz")
        save_preset(trainer.preset, tmp_path / "p.toml")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "run.npz").st_mode) == mode
    assert stat.S_IMODE(os.stat(tmp_path / "p.toml").st_mode) == mode


def test_a_replaced_file_keeps_its_mode(tmp_path, trainer):
    path = tmp_path / "run.npz"
    path.write_bytes(b"old")
    path.chmod(0o640)
    old = os.umask(0o022)
    try:
        save_checkpoint(trainer, path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert load_checkpoint(path).counters["step"] == 10


def test_the_temporary_file_is_named_and_removed_on_failure(tmp_path, trainer, monkeypatch):
    path = tmp_path / "run.npz"
    save_checkpoint(trainer, path)
    before = path.read_bytes()
    seen = []

    def disk_full(fh, **arrays):
        seen.extend(os.listdir(tmp_path))
        fh.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(EngineError) as refusal:
        save_checkpoint(trainer, path)
    assert str(refusal.value) == f"cannot save to {path}: No space left on device"
    assert [n for n in seen if n != "run.npz"] and all(TMP_NAME.fullmatch(n) for n in seen if n != "run.npz")
    assert os.listdir(tmp_path) == ["run.npz"] and path.read_bytes() == before


def test_a_save_removes_only_its_own_stale_temporary_files(tmp_path, trainer):
    old = time.time() - STALE_AFTER - 60
    names = {"stale": ".run.npz.backprop-lab-tmp-0123abcd", "fresh": ".run.npz.backprop-lab-tmp-89abcdef",
             "other": ".run.npz.0123abcd.tmp", "not hex": ".run.npz.backprop-lab-tmp-ZZZZZZZZ",
             "visible": "run.npz.backprop-lab-tmp-0123abcd"}
    for key, name in names.items():
        (tmp_path / name).write_bytes(b"x" * 100)
        if key != "fresh":
            os.utime(tmp_path / name, (old, old))
    folder = tmp_path / ".a.backprop-lab-tmp-00000000"
    folder.mkdir()
    os.utime(folder, (old, old))
    save_checkpoint(trainer, tmp_path / "run.npz")
    left = set(os.listdir(tmp_path))
    assert names["stale"] not in left
    assert left == {"run.npz", folder.name} | {n for k, n in names.items() if k != "stale"}
    assert remove_stale(str(tmp_path)) == 0


@pytest.mark.parametrize("target,expect", [
    ("{tmp}/nope/run.npz", "the folder {tmp}/nope does not exist"),
    ("{tmp}/dir", "it is a folder; name a file in it"),
    ("{tmp}/fifo", "it is a FIFO (named pipe)"),
    ("{tmp}/link", "it is a symbolic link"),
    ("{tmp}/plain/run.npz", "{tmp}/plain is not a folder"),
    ("", "cannot save: no file name given (the path is empty)"),
])
def test_a_failed_save_after_train_prints_the_summary_then_one_line(tmp_path, capsys, target, expect):
    (tmp_path / "dir").mkdir()
    (tmp_path / "plain").write_bytes(b"x")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(tmp_path / "plain")
    target, expect = target.format(tmp=tmp_path), expect.format(tmp=tmp_path)
    status = cli_main(["train", "xor", "--epochs", "1", "--save", target])
    out, err = capsys.readouterr()
    assert status == 2
    assert out.startswith("XOR: why a network needs a hidden layer\n")
    assert "  state: finished (trained its 1 epochs at step 7)" in out and "saved to" not in out
    assert err.count("\n") == 1 and len(err) <= 300 and expect in err, err
    assert err.startswith("backprop-lab: cannot save")
    assert (tmp_path / "plain").read_bytes() == b"x" and stat.S_ISFIFO(os.lstat(tmp_path / "fifo").st_mode)


def test_a_jsonl_run_with_a_failed_save_exits_2(tmp_path, capsys):
    status = cli_main(["train", "xor", "--epochs", "2", "--jsonl", "--save", str(tmp_path / "dir" / "x.npz")])
    out, err = capsys.readouterr()
    assert status == 2 and len(out.splitlines()) == 2 and err.count("\n") == 1


def test_ctrl_c_during_train_save_saves_what_was_trained(tmp_path):
    path = tmp_path / "run.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "backprop_lab", "train", "xor", "--epochs", "100000",
                             "--save", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    time.sleep(1.0)
    sent = time.perf_counter()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert time.perf_counter() - sent < 5
    assert proc.returncode == 130, err
    ckpt = load_checkpoint(path)
    step, epoch = ckpt.counters["step"], ckpt.counters["epoch"]
    assert 0 < step < 700_000 and epoch == step // 7  # stopped early, after a whole step
    assert err == (f"backprop-lab: interrupted at step {step} (epoch {epoch}); saved what was "
                   f"trained to {path}\n")
    assert "  state: paused" in out and f"epochs: {epoch}  steps: {step}" in out
    assert out.rstrip().endswith(f"saved to {path}")
    assert os.listdir(tmp_path) == ["run.npz"]
    trainer = open_run(str(path)).trainer()
    assert trainer.step_count == step
