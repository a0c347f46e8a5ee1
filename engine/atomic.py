"""Writing files so that a crash mid-write never leaves a broken one."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes | Callable[[object], None]) -> None:
    """Write ``data`` (bytes, or a function that writes to a binary file object) to ``path``.

    The bytes go to a temporary file in the same folder, are flushed to disk, and only then
    renamed over ``path``; until that rename the previous file stays as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as fh:
            if callable(data):
                data(fh)
            else:
                fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
