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
        where = ": ".join(p for p in (source, path) if p)
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
