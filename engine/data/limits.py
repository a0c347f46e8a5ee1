"""What loading may take from the machine: regular files only, up to a size, and a share
of the memory available.

A preset may name any path, so a file is checked before it is read: a FIFO would block the
read, and a device such as /dev/zero never ends.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from ..errors import EngineError, cut

#: share of the available memory one run may plan to use
MEMORY_SHARE = 0.5


def size_text(n: float) -> str:
    """A byte count for people: ``512 B``, ``3.2 KB``, ``46 GB`` (powers of 1000)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 999.5 or unit == "TB":
            break
        n /= 1000
    return f"{n:.0f} {unit}" if n >= 10 or unit == "B" else f"{n:.1f} {unit}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a plain file")
    return f"is {kind}; only a regular file can be read"


def open_regular(path: str | os.PathLike, *, max_bytes: int, what: str,
                 error: type[EngineError] = EngineError) -> BinaryIO:
    """Open a regular file to read bytes, or raise ``error`` with one line.

    Anything else (a folder, FIFO, device, socket) is refused from ``os.stat`` before it is
    opened, and again from ``fstat`` after: the open never blocks (O_NONBLOCK), so a FIFO
    swapped in between cannot hang it. Files over ``max_bytes`` are refused too; ``what``
    names the file's kind in that message (``"a CSV file"``).
    """
    name = cut(os.fspath(path), 80)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
             | getattr(os, "O_CLOEXEC", 0))
    fd = None
    try:
        st = os.stat(path)
        if stat.S_ISREG(st.st_mode):
            fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in it
        raise error(f"{name}: no such file") from None
    except OSError as e:
        raise error(f"{name}: cannot be read ({e.strerror or type(e).__name__})") from None
    if fd is None:
        raise error(f"{name}: {_kind(st.st_mode)}")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise error(f"{name}: {_kind(st.st_mode)}")
    if st.st_size > max_bytes:
        os.close(fd)
        raise error(f"{name}: the file is {size_text(st.st_size)}, more than the "
                    f"{size_text(max_bytes)} {what} may be")
    return os.fdopen(fd, "rb")


def read_limited(path: str | os.PathLike, *, max_bytes: int, what: str,
                 error: type[EngineError] = EngineError) -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (see ``open_regular``)."""
    with open_regular(path, max_bytes=max_bytes, what=what, error=error) as f:
        data = f.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew since it was opened
        raise error(f"{cut(os.fspath(path), 80)}: more than the {size_text(max_bytes)} "
                    f"{what} may be")
    return data


def available_memory() -> int | None:
    """Bytes the machine can give without swapping (MemAvailable, or free pages), capped
    by a cgroup's memory limit; None when nothing tells."""
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (AttributeError, OSError, ValueError):
            return None
    try:  # a container's own limit (cgroup v2), when it is lower
        with open("/sys/fs/cgroup/memory.max", encoding="ascii") as f:
            limit = f.read().strip()
        with open("/sys/fs/cgroup/memory.current", encoding="ascii") as f:
            used = int(f.read().strip())
        if limit != "max":
            found = min(found, max(0, int(limit) - used))
    except (OSError, ValueError):
        pass
    return found


def memory_limit() -> int | None:
    """Bytes one run may plan to use: MEMORY_SHARE of the available memory."""
    free = available_memory()
    return None if free is None else int(free * MEMORY_SHARE)
