"""A bad command line is one line on stderr and exit status 2, never a traceback."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from engine.config import parse_value
from engine.errors import cut
from engine.presets import Preset

#: the longest refusal printed: one line that fits a few terminal rows at most
MAX_MESSAGE = 300


class UsageError(Exception):
    """A command line that cannot be run."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line on stderr and exit status 2."""

    def error(self, message: str):
        raise UsageError(f"{self.prog}: {message}")


def fail(message: str) -> int:
    """Print one line (at most MAX_MESSAGE characters) to stderr and return the
    bad-input status."""
    message = str(message)
    if not message.startswith("backprop-lab"):
        message = f"backprop-lab: {message}"
    print(cut(message, MAX_MESSAGE), file=sys.stderr)
    return 2


def apply_sets(preset: Preset, sets: list[str], seed: int | None) -> Preset:
    """The preset with ``--set key.path=value`` and ``--seed`` applied (validated)."""
    config = preset.config
    for item in sets:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise UsageError(f"--set needs key.path=value, got '{cut(item)}'")
        config = config.with_value(key.strip(), parse_value(value.strip()), source="--set")
    if seed is not None:
        config = config.with_value("training.seed", seed, source="--seed")
    return replace(preset, config=config)
