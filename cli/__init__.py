"""The headless commands of ``backprop-lab``: train, presets, check, compare, explain.

Bad input exits with status 2 and one line on stderr, never a traceback.
"""

from .main import SUBCOMMANDS, main
from .usage import Parser, UsageError, fail

__all__ = ["SUBCOMMANDS", "Parser", "UsageError", "fail", "main"]
