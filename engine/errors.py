"""Errors the engine raises for bad input: each carries one line fit to show a user."""

from __future__ import annotations


class EngineError(ValueError):
    """Bad input to the engine: a wrong name, value, file or pairing.

    ``str(error)`` is a single line that says what is wrong and where.
    """


class ConfigError(EngineError):
    """A configuration or preset that does not validate."""

    def __init__(self, message: str, *, source: str | None = None, path: str | None = None):
        self.source = source
        self.path = path
        self.reason = message
        where = ": ".join(p for p in (source and cut(source, 80), path and cut(path)) if p)
        super().__init__(f"{where}: {message}" if where else message)


class DataError(EngineError):
    """A data set or CSV file that cannot be used."""


class CheckpointError(EngineError):
    """A checkpoint that cannot be read or does not fit its configuration."""


def choices(names) -> str:
    """Format allowed names for an error message: ``'a', 'b' or 'c'``."""
    names = [f"'{n}'" for n in names]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _escaped(text: str) -> str:
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def cut(text: str, limit: int = 60) -> str:
    """``text`` on one line in at most about ``limit`` characters: control characters
    escaped, the middle of a long text replaced by ``…``."""
    text = str(text)
    if len(text) <= limit:
        shown = text if text.isprintable() else _escaped(text)
        if len(shown) <= limit:
            return shown
    head = _escaped(text[:limit])[: limit * 2 // 3]
    tail = _escaped(text[-limit:])[-(limit - len(head) - 1):]
    return f"{head}…{tail}"
