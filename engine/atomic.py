"""Writing files so that a crash mid-write never leaves a broken one, and a save only ever
replaces a regular file.

The bytes go to a temporary file ``.NAME.backprop-lab-tmp-XXXXXXXX`` in the target's
folder, are flushed to disk, and only then renamed over the target; until that rename the
previous file stays as it was. On any failure the temporary file is removed, and each
save removes temporary files of that pattern older than an hour from its folder (left by
a process killed mid-save); no other file is touched.

Only a regular file, or nothing, at the target is replaced: a folder, device, FIFO or
socket there is refused. A symbolic link at the target is refused too, whatever it points
at: renaming over it would swap the link for a file, and writing through it would let the
link decide where a save lands (a device, someone else's file). Save to the file itself.

A new file gets the mode a plain ``open(path, "w")`` gives it: 0666 less the umask. A file
that is replaced keeps its permission bits, as it would when opened for writing.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
import time
from collections.abc import Callable

from .errors import EngineError

TMP_MARK = ".backprop-lab-tmp-"
STALE_AFTER = 3600.0  #: seconds before a leftover temporary file is someone's lost save
_TMP_NAME = re.compile(r"\..*" + re.escape(TMP_MARK) + r"[0-9a-f]{8}", re.DOTALL)
_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _cut(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _refuse(path: str, why: str) -> EngineError:
    return EngineError(f"cannot save to {_cut(path)}: {why}")


def check_target(path: str) -> int | None:
    """The permission bits of the regular file at ``path`` (None: nothing there yet);
    raises EngineError if a save may not replace what is there."""
    if path.endswith(os.sep) or (os.altsep and path.endswith(os.altsep)):
        raise _refuse(path, "that names a folder; name a file in it")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise _refuse(path, f"{_cut(os.path.dirname(path), 80)} is not a folder") from None
    except OSError as exc:
        raise _refuse(path, exc.strerror or exc.__class__.__name__) from None
    if stat.S_ISREG(st.st_mode):
        return stat.S_IMODE(st.st_mode)
    if stat.S_ISLNK(st.st_mode):
        raise _refuse(path, "it is a symbolic link; a save replaces only a regular file, so "
                            "name the file itself")
    if stat.S_ISDIR(st.st_mode):
        raise _refuse(path, "it is a folder; name a file in it")
    kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
    raise _refuse(path, f"it is {kind}; a save replaces only a regular file")


def _check_folder(path: str, folder: str) -> None:
    try:
        st = os.stat(folder)
    except FileNotFoundError:
        raise _refuse(path, f"the folder {_cut(folder, 80)} does not exist") from None
    except OSError as exc:
        raise _refuse(path, f"{_cut(folder, 80)}: {exc.strerror or exc.__class__.__name__}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise _refuse(path, f"{_cut(folder, 80)} is not a folder")


def _create_temp(path: str, folder: str, mode: int | None) -> tuple[int, str]:
    base = os.path.basename(path)[:100]  # the temporary name must fit where the name fits
    for _ in range(16):
        tmp = os.path.join(folder, f".{base}{TMP_MARK}{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                         0o666)  # the umask applies, as for open(path, "w")
        except FileExistsError:
            continue
        except OSError as exc:
            raise _refuse(path, f"cannot write in {_cut(folder, 80)} "
                                f"({exc.strerror or exc.__class__.__name__})") from None
        if mode is not None:
            os.fchmod(fd, mode)
        return fd, tmp
    raise _refuse(path, "no free temporary file name")


def remove_stale(folder: str, now: float | None = None) -> int:
    """Remove this module's temporary files older than STALE_AFTER from ``folder``;
    returns how many. Errors are ignored: it is housekeeping."""
    now = time.time() if now is None else now
    removed = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not _TMP_NAME.fullmatch(entry.name):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(st.st_mode) and now - st.st_mtime > STALE_AFTER:
                        os.unlink(entry.path)
                        removed += 1
                except OSError:
                    pass
    except OSError:
        pass
    return removed


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[object], None]) -> None:
    """Write ``data`` (bytes, or a function that writes to a binary file object) to
    ``path``, replacing a regular file there; see the module docstring. A refusal or a
    failed write raises EngineError with one line; anything else the writer raises
    (an interrupt, say) is raised as it was, with the temporary file removed."""
    path = os.fspath(path)
    if not path:
        raise EngineError("cannot save: no file name given (the path is empty)")
    mode = check_target(path)
    folder = os.path.dirname(path) or "."
    _check_folder(path, folder)
    fd, tmp = _create_temp(path, folder, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        check_target(path)  # again: something may have been put there while we wrote
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise _refuse(path, exc.strerror or exc.__class__.__name__) from None
        raise
    remove_stale(folder)
