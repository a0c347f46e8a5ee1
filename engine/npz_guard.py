"""Reading a ``.npz`` file from a stranger: nothing is inflated or allocated before the zip
directory and every member's ``.npy`` header have been checked against what is expected.

Checked first: the path is a regular file (never a FIFO or a device, which could hang or
never end) no larger than the limit; the zip directory is small, lists at most
``max_members`` members, each named as expected, stored or deflated, not encrypted, and
the declared uncompressed sizes add up to at most ``max_bytes``. Then each member's
header, parsed from its first bytes, must name a plain numeric or string dtype (never
object, never a record), the expected rank, at most the allowed number of items, and
exactly as many data bytes as the member declares. Data is then read in chunks into a
buffer of that checked size, so neither a zip bomb nor a huge declared shape costs memory
before it is refused. Every refusal is a CheckpointError with one line.
"""

from __future__ import annotations

import io
import math
import os
import stat
import struct
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy

from .data.limits import size_text
from .errors import CheckpointError, cut

HEADER_MAX = 4096  #: bytes of a ``.npy`` header at most (numpy writes about 128)
_HEAD_READ = 12 + HEADER_MAX  #: magic, version and length prefix, then the header
_CHUNK = 1 << 20
_DIRECTORY_MAX = 1 << 16  #: bytes of zip directory at most: a few dozen members
_END = b"PK\x05\x06"  #: end of central directory record
_ZIP64_LOCATOR = b"PK\x06\x07"

#: what reading a broken zip or .npy can raise, besides our own refusals
READ_ERRORS = (OSError, EOFError, ValueError, TypeError, RuntimeError, zipfile.BadZipFile,
               zipfile.LargeZipFile, zlib.error, struct.error, OverflowError, MemoryError,
               SyntaxError, SystemError)


@dataclass(frozen=True)
class Member:
    """What one member may hold: ``kind`` "float", "int" or "str", its rank ``ndim``, and
    ``max_items`` elements at most (characters for a string, which is always 0-d)."""

    kind: str
    ndim: int
    max_items: int


def read_npz(path: str, spec: Callable[[str], Member | None], *, max_bytes: int,
             max_members: int) -> dict[str, np.ndarray | str]:
    """The members of the ``.npz`` file at ``path`` by name (without ``.npy``): arrays, and
    strings for "str" members. ``spec(name)`` says what a member may hold (None: no such
    member is allowed). Raises CheckpointError with one line."""
    where = cut(path, 120)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block
    except FileNotFoundError:
        raise CheckpointError(f"{where}: no such file") from None
    except OSError as exc:
        raise CheckpointError(f"{where}: cannot be read ({cut(exc.strerror or exc, 60)})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        if stat.S_ISDIR(st.st_mode):
            raise CheckpointError(f"{where}: is a folder; name a checkpoint .npz file")
        raise CheckpointError(f"{where}: not a regular file; a checkpoint is a .npz file")
    with os.fdopen(fd, "rb") as fh:
        file_limit = max_bytes + (1 << 20)  # the zip's own records, and deflate's worst case
        if st.st_size > file_limit:
            raise CheckpointError(f"{where}: the file is {size_text(st.st_size)}; checkpoints "
                                  f"are limited to {size_text(file_limit)}")
        try:
            _check_directory(fh, st.st_size, where)
            with zipfile.ZipFile(fh) as zf:
                infos = _check_members(zf, spec, where, st.st_size, max_bytes, max_members)
                return {name: _read_member(zf, info, spec(name), name, where)
                        for name, info in infos.items()}
        except CheckpointError:
            raise
        except READ_ERRORS as exc:
            raise CheckpointError(f"{where}: not a readable checkpoint ({exc.__class__.__name__}: "
                                  f"{cut(exc, 80)})") from None


def _check_directory(fh, size: int, where: str) -> None:
    """Refuse a zip whose directory is not small, before zipfile reads it in."""
    tail_len = min(size, 22 + 0xFFFF + 20)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = len(tail) - 22 if tail[-22:-18] == _END and tail[-2:] == b"\0\0" else tail.rfind(_END)
    if at < 0 or len(tail) - at < 22:
        raise CheckpointError(f"{where}: not a readable checkpoint (not a zip file)")
    entries, dir_size = struct.unpack("<2xHI", tail[at + 8:at + 16])
    zip64 = at >= 20 and tail[at - 20:at - 16] == _ZIP64_LOCATOR
    if zip64 or entries == 0xFFFF or dir_size > _DIRECTORY_MAX:
        raise CheckpointError(f"{where}: its zip directory is too large for a checkpoint "
                              f"({entries} entries, {dir_size:,} bytes; the limit is "
                              f"{_DIRECTORY_MAX:,} bytes)")


def _check_members(zf: zipfile.ZipFile, spec, where: str, file_size: int, max_bytes: int,
                   max_members: int) -> dict[str, zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > max_members:
        raise CheckpointError(f"{where}: {len(infos)} members; a checkpoint has at most {max_members}")
    total = sum(i.file_size for i in infos)
    if total > max_bytes:
        raise CheckpointError(f"{where}: {size_text(total)} uncompressed; the limit for a "
                              f"checkpoint is {size_text(max_bytes)}")
    out: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename[:-4] if info.filename.endswith(".npy") else ""
        if not name or spec(name) is None:
            raise CheckpointError(f"{where}: not a backprop-lab checkpoint (it holds "
                                  f"{cut(info.filename, 60)!r})")
        if name in out:
            raise CheckpointError(f"{where}: holds {info.filename!r} twice")
        if info.flag_bits & 0x1:
            raise CheckpointError(f"{where}: {info.filename} is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise CheckpointError(f"{where}: {info.filename} uses zip compression method "
                                  f"{info.compress_type}; allowed: stored or deflated")
        if info.compress_size > file_size:
            raise CheckpointError(f"{where}: {info.filename} declares more bytes than the file has")
        out[name] = info
    return out


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, member: Member, name: str,
                 where: str) -> np.ndarray | str:
    label = f"{where}: {name}"
    with zf.open(info) as fh:
        head = fh.read(min(info.file_size, _HEAD_READ))
        shape, fortran, dtype, offset = _parse_header(head, label)
        count = _check_array(shape, dtype, member, label)
        nbytes = count * dtype.itemsize
        if offset + nbytes != info.file_size:
            raise CheckpointError(f"{label}: its header declares {nbytes:,} bytes of data, the "
                                  f"member holds {max(info.file_size - offset, 0):,}")
        buf = bytearray(nbytes)
        view = memoryview(buf)
        got = head[offset:offset + nbytes]
        view[:len(got)] = got
        filled = len(got)
        while filled < nbytes:
            chunk = fh.read(min(_CHUNK, nbytes - filled))
            if not chunk:
                raise CheckpointError(f"{label}: the data ends early")
            view[filled:filled + len(chunk)] = chunk
            filled += len(chunk)
    if member.kind == "str":
        codec = "utf-32-be" if dtype.byteorder == ">" else "utf-32-le"
        return bytes(buf).decode(codec).rstrip("\0")  # a bad code point is a UnicodeDecodeError
    arr = np.frombuffer(buf, dtype=dtype, count=count) if count else np.empty(0, dtype)
    return arr.reshape(shape[::-1]).T if fortran else arr.reshape(shape)


def _parse_header(head: bytes, label: str):
    """Shape, Fortran order, dtype and data offset from a member's first bytes."""
    bio = io.BytesIO(head)
    version = npy.read_magic(bio)
    read = {(1, 0): npy.read_array_header_1_0, (2, 0): npy.read_array_header_2_0}.get(version)
    if read is None:
        raise CheckpointError(f"{label}: .npy format version {version}; allowed: 1.0 or 2.0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy warns about Python 2 headers on stderr
        shape, fortran, dtype = read(bio, max_header_size=HEADER_MAX)
    return shape, fortran, dtype, bio.tell()


def _check_array(shape: tuple, dtype: np.dtype, member: Member, label: str) -> int:
    """The number of elements, once dtype, rank and size fit ``member``."""
    plain = not dtype.hasobject and dtype.names is None and dtype.subdtype is None
    kinds = {"float": "f", "int": "iu", "str": "U"}[member.kind]
    if (not plain or dtype.kind not in kinds or dtype.itemsize == 0
            or (member.kind != "str" and dtype.itemsize > 8)):
        raise CheckpointError(f"{label}: dtype {cut(dtype.str, 40)} is not allowed; expected "
                              f"{'a string' if member.kind == 'str' else 'plain ' + member.kind + 's'}")
    if member.kind == "str" and dtype.itemsize // 4 > member.max_items:
        raise CheckpointError(f"{label}: a text of {dtype.itemsize // 4:,} characters; the "
                              f"limit is {member.max_items:,}")
    if len(shape) != member.ndim or any(d < 0 for d in shape):
        raise CheckpointError(f"{label}: shape {cut(shape, 60)} is not allowed; expected "
                              f"{member.ndim} dimension{'s' if member.ndim != 1 else ''}")
    count = math.prod(shape)
    if member.kind != "str" and count > member.max_items:
        raise CheckpointError(f"{label}: {count:,} values; the limit is {member.max_items:,}")
    return count
