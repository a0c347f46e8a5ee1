"""Reading untrusted TOML: a size cap, and nesting checked on the raw text before
``tomllib`` parses it (it parses nested values by recursion, so 1,000 levels would end in a
RecursionError), and after (dotted keys nest without brackets). Every refusal is a
one-line ConfigError.
"""

from __future__ import annotations

import re
import tomllib

from .errors import ConfigError, cut

#: TOML text a preset may be (presets are a few KB) and how deep tables and lists may nest
MAX_TOML_CHARS = 2_000_000
MAX_NESTING = 10


_TOKEN = re.compile(r'"""|\'\'\'|["\'#\[\]{}\n]')


def _nesting(text: str) -> tuple[int, int]:
    """The deepest nesting of brackets and braces outside strings and comments, and the
    line where it is reached (tomllib parses nested values by recursion)."""
    depth = top = 0
    line = top_line = 1
    state = None  # None, '#', or the quote that opened the string
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok == "\n":
            line += 1
            if state in ('"', "'", "#"):
                state = None
        elif state is None:
            if tok in "[{":
                depth += 1
                if depth > top:
                    top, top_line = depth, line
            elif tok in "]}":
                depth = max(0, depth - 1)
            else:
                state = tok  # a comment or a string starts
        elif state == "#" or tok[0] != state[0] or (len(state) == 3 and len(tok) != 3):
            continue
        elif state[0] == '"':
            i = m.start()
            while i and text[i - 1] == "\\":
                i -= 1
            if (m.start() - i) % 2 == 0:  # not escaped
                state = None
        else:
            state = None
    return top, top_line


def _depth(doc) -> int:
    """How deep tables and lists nest in a parsed document (dotted keys nest too)."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            break
        children = value.values() if isinstance(value, dict) else value
        stack.extend((v, depth + 1) for v in children if isinstance(v, (dict, list)))
    return deepest


def load_toml(text: str, source: str | None = None) -> dict:
    """Parse TOML text of at most MAX_TOML_CHARS, nested at most MAX_NESTING deep;
    ConfigError with one line otherwise."""
    if len(text) > MAX_TOML_CHARS:
        raise ConfigError(f"{len(text):,} characters, more than the {MAX_TOML_CHARS:,} a "
                          f"preset may have", source=source)
    depth, line = _nesting(text)
    if depth > MAX_NESTING:
        raise ConfigError(f"line {line}: lists and tables nested more than {MAX_NESTING} deep; "
                          f"a preset needs 3 at most", source=source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {cut(str(exc), 120)}", source=source) from None
    except ValueError:  # an integer too long to convert, or another value tomllib refuses
        m = re.search(r"\d{4000,}", text)
        where = f"line {text.count(chr(10), 0, m.start()) + 1}: " if m else ""
        raise ConfigError(f"not valid TOML: {where}a number with thousands of digits",
                          source=source) from None
    except RecursionError:
        raise ConfigError(f"lists and tables nested too deep; a preset nests at most "
                          f"{MAX_NESTING} deep", source=source) from None
    if _depth(doc) > MAX_NESTING:
        raise ConfigError(f"tables nested more than {MAX_NESTING} deep (a dotted key or "
                          f"table name with many parts); a preset needs 3 at most",
                          source=source)
    return doc
