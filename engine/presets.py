"""Preset files: a title, a lesson and a complete config, in TOML.

Bundled presets ship inside the ``presets`` package and are found by name after any
kind of install; any other ``.toml`` file is found by its path.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import tomli_w

from .config import SECTIONS, Config, show
from .data.limits import read_limited
from .errors import ConfigError, choices, cut
from .toml_guard import MAX_TOML_CHARS, load_toml

DEFAULT_PRESET = "xor"
TOP_KEYS = ("title", "lesson", "pace") + tuple(SECTIONS)
DEFAULT_PACE = 30.0  #: epochs a second the app trains at, unless a preset sets ``pace``
MAX_PACE = 10_000.0
MAX_TEXT = {"title": 200, "lesson": 20_000}  #: characters of the preset's own texts


@dataclass(frozen=True)
class Preset:
    """A named experiment: what to look at (``lesson``) and how to set it up (``config``)."""

    name: str
    title: str
    lesson: str
    config: Config
    path: str | None = None
    #: epochs a second the app trains at (None: as fast as it can); headless runs ignore it
    pace: float | None = DEFAULT_PACE

    def to_dict(self) -> dict:
        pace = "max" if self.pace is None else self.pace
        return {"title": self.title, "lesson": self.lesson, "pace": pace,
                **self.config.to_dict()}


def parse_pace(value, source: str | None = None) -> float | None:
    """A preset's ``pace``: epochs a second (a number > 0), or "max" for full speed."""
    if value == "max":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and (
            0 < value <= MAX_PACE):
        return float(value)
    raise ConfigError(f"{show(value)} is not allowed; use epochs a second, a number > 0 and "
                      f"<= {MAX_PACE:g}, or 'max'", source=source, path="pace")


def bundled_dir():
    """The folder (a Traversable) that holds the bundled preset files."""
    return resources.files("presets")


def bundled_names() -> list[str]:
    """Names of the bundled presets, sorted."""
    return sorted(p.name[:-5] for p in bundled_dir().iterdir() if p.name.endswith(".toml"))


def list_presets() -> list[Preset]:
    """Every bundled preset, loaded."""
    return [load_preset(name) for name in bundled_names()]


def _looks_like_path(ref: str) -> bool:
    return ref.lower().endswith((".toml", ".csv")) or os.sep in ref or "/" in ref


def load_preset(ref: str | os.PathLike) -> Preset:
    """Load a bundled preset by name (``"xor"``) or any preset file by path."""
    ref_s = os.fspath(ref)
    if not _looks_like_path(ref_s):
        entry = bundled_dir() / f"{ref_s}.toml"
        if not entry.is_file():
            names = bundled_names()
            near = difflib.get_close_matches(ref_s, names, n=1)
            hint = f"did you mean '{near[0]}'?" if near else f"bundled: {', '.join(names)}"
            raise ConfigError(f"no bundled preset named '{cut(ref_s)}'; {hint}")
        # a bundled preset's data file (a drawn set's CSV) lies beside it
        return parse_preset(entry.read_text(encoding="utf-8"), name=ref_s, source=f"{ref_s}.toml",
                            base_dir=entry.parent)
    path = Path(ref_s)
    if path.is_dir():
        raise ConfigError("is a folder; name a preset .toml file in it", source=ref_s)
    if not os.path.lexists(ref_s):
        raise ConfigError("no such file", source=ref_s)
    if path.suffix.lower() == ".csv":
        raise ConfigError("a CSV is data, not a preset; write a preset with [data] "
                          "dataset = 'csv', path and label, and open that", source=ref_s)
    # 4 bytes a character at most: the character cap is checked again on the text
    raw = read_limited(ref_s, max_bytes=4 * MAX_TOML_CHARS, what="a preset", error=ConfigError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"line {line}: not UTF-8 text; a preset is a UTF-8 TOML file",
                          source=ref_s) from None
    return parse_preset(text, name=path.stem, source=ref_s, base_dir=path.parent)


def parse_preset(text: str, *, name: str = "untitled", source: str | None = None,
                 base_dir: Path | None = None) -> Preset:
    """Parse and validate preset TOML text. ``source`` names the file in errors."""
    doc = load_toml(text, source)
    for key in doc:
        if key not in TOP_KEYS:
            raise ConfigError(f"unknown key; allowed: {choices(TOP_KEYS)}", source=source,
                              path=cut(key, 30))
    for key in ("title", "lesson"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            raise ConfigError("a preset needs this as a non-empty string", source=source, path=key)
        if len(doc[key]) > MAX_TEXT[key]:
            raise ConfigError(f"{len(doc[key]):,} characters, more than the {MAX_TEXT[key]:,} "
                              f"allowed", source=source, path=key)
    sections = {k: v for k, v in doc.items() if k in SECTIONS}
    data = sections.get("data")
    if base_dir is not None and isinstance(data, dict) and isinstance(data.get("path"), str):
        csv = data["path"]
        if csv and "\0" not in csv and len(csv) <= 4096 and not Path(csv).is_absolute():
            try:
                sections["data"] = {**data, "path": str((base_dir / csv).resolve())}
            except (OSError, RuntimeError):  # a symlink loop: the data check names it
                pass
    config = Config.from_dict(sections, source=source)
    pace = parse_pace(doc["pace"], source) if "pace" in doc else DEFAULT_PACE
    return Preset(name=name, title=doc["title"].strip(), lesson=" ".join(doc["lesson"].split()),
                  config=config, path=source, pace=pace)


def preset_toml(preset: Preset) -> str:
    """The TOML text of a preset, which ``parse_preset`` reads back to an equal preset."""
    return tomli_w.dumps(preset.to_dict(), multiline_strings=True)


def save_preset(preset: Preset, path: str | os.PathLike) -> None:
    """Write a preset file atomically (a crash never leaves half a file)."""
    from .atomic import write_atomic

    write_atomic(path, preset_toml(preset).encode("utf-8"))
