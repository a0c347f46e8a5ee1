"""Small images as terminal text: half-block pixels in colour, characters in plain mode.

A cell holds two pixels one above the other (``▀``: foreground the top pixel, background
the bottom one), so an 8×8 image takes 8 columns and 4 rows. Without colour an image is
either one character a pixel from a ramp (``ink_lines(plain=True)``) or, where room is
short, a threshold picture in block characters, still two pixels a cell (``ink_blocks``).

Ink pictures scale each image between its own lowest and highest value (for pixels over
16, blank is 0 and full ink 1), in ``INK_LEVELS`` grey steps.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from rich.color import Color
from rich.style import Style
from rich.text import Text

INK_LEVELS = 8  #: grey steps of an ink picture
PLAIN_INK = " .:-=+*#"  #: plain mode: one character a pixel, blank to full ink
BLANK = (24, 24, 24)  #: the colour of no ink (and of no weight)
INK = (240, 240, 240)  #: full ink
#: threshold blocks for (top inked, bottom inked)
BLOCKS = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}
_STYLES: dict[tuple, Style] = {}

RGB = tuple[int, int, int]


def ink_levels(image: np.ndarray) -> np.ndarray:
    """0..INK_LEVELS-1 per pixel of ``image`` (any shape), between its min and max."""
    image = np.asarray(image, dtype=np.float64)
    lo, hi = (float(image.min()), float(image.max())) if image.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.zeros(image.shape, dtype=np.int64)
    scaled = (np.nan_to_num(image, nan=lo) - lo) / (hi - lo)
    return np.clip(np.round(scaled * (INK_LEVELS - 1)), 0, INK_LEVELS - 1).astype(np.int64)


def ink_colour(level: int) -> RGB:
    """The grey of an ink level: BLANK at 0 up to INK at INK_LEVELS - 1."""
    t = level / (INK_LEVELS - 1)
    return tuple(int(round(b + (i - b) * t)) for b, i in zip(BLANK, INK))


def style_of(top: RGB, bottom: RGB) -> Style:
    """The style of a half-block cell (shared: a picture has few distinct cells)."""
    key = (top, bottom)
    style = _STYLES.get(key)
    if style is None:
        style = _STYLES[key] = Style(color=Color.from_rgb(*top), bgcolor=Color.from_rgb(*bottom))
    return style


def half_blocks(colours: list[list[RGB]]) -> list[Text]:
    """Rows of pixel colours (rows × cols) as ceil(rows / 2) lines of half blocks; an odd
    last row sits over BLANK."""
    lines = []
    for r in range(0, len(colours), 2):
        top = colours[r]
        bottom = colours[r + 1] if r + 1 < len(colours) else [BLANK] * len(top)
        line = Text(no_wrap=True)
        for t, b in zip(top, bottom):
            line.append("▀", style_of(t, b))
        lines.append(line)
    return lines


def ink_lines(image: np.ndarray, shape: tuple[int, int], *, plain: bool) -> list[Text]:
    """An ink picture of ``image`` (rows * cols values, row by row): half blocks in
    colour, one PLAIN_INK character a pixel in plain mode."""
    levels = ink_levels(np.asarray(image).reshape(shape))
    if plain:
        return [Text("".join(PLAIN_INK[v] for v in row), no_wrap=True) for row in levels]
    return half_blocks([[ink_colour(int(v)) for v in row] for row in levels])


def ink_blocks(image: np.ndarray, shape: tuple[int, int]) -> list[Text]:
    """A plain ink picture two pixels a cell: a pixel is drawn when its ink level is at
    least half (``BLOCKS``)."""
    on = ink_levels(np.asarray(image).reshape(shape)) >= INK_LEVELS // 2
    lines = []
    for r in range(0, on.shape[0], 2):
        bottom = on[r + 1] if r + 1 < on.shape[0] else np.zeros(on.shape[1], bool)
        lines.append(Text("".join(BLOCKS[bool(t), bool(b)] for t, b in zip(on[r], bottom)),
                          no_wrap=True))
    return lines


def signed_lines(values: np.ndarray, scale: float, colour: Callable[[float, float], RGB],
                 char: Callable[[float, float], str], *, plain: bool) -> list[Text]:
    """A picture of signed values (rows × cols), e.g. one unit's weights: half blocks
    coloured by ``colour(value, scale)`` (a diverging scale), or in plain mode one
    ``char(value, scale)`` a value, which must show the sign."""
    values = np.asarray(values, dtype=np.float64)
    if plain:
        return [Text("".join(char(float(v), scale) for v in row), no_wrap=True)
                for row in values]
    return half_blocks([[colour(float(v), scale) for v in row] for row in values])
