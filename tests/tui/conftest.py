"""Fixtures for the app's Pilot tests: a factory that opens the app on a preset."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from engine.config import Config
from engine.opening import Opened, open_run
from engine.presets import Preset
from tui.app import BackpropLab

#: a network that blows up within a few steps: regression, ReLU, plain SGD with lr 50
DIVERGING = Config.from_dict({
    "data": {"dataset": "plane", "samples": 100},
    "model": {"layers": [{"units": 8, "activation": "relu"}]},
    "training": {"optimizer": "sgd", "lr": 50, "batch_size": "full"},
})


@pytest.fixture
def make_app(tmp_path):
    def make(ref: str | Opened | None = "xor", *, epochs: int | None = 1_000_000,
             speed: float | None = 400.0, pace: float | None | str = None,
             **kwargs) -> BackpropLab:
        """The app on ``ref``; ``epochs`` overrides the preset's stop so runs keep going;
        ``speed`` caps training steps a second, which leaves the test's event loop (same
        interpreter) time to run, so the tests stay quick. ``pace``: epochs a second
        (None: full speed, "preset": the preset's own)."""
        opened = ref if isinstance(ref, Opened) else open_run(ref)
        if epochs is not None:
            config = opened.preset.config.with_value("training.epochs", epochs)
            opened = replace(opened, preset=replace(opened.preset, config=config))
        kwargs.setdefault("plain", False)
        kwargs.setdefault("save_dir", tmp_path)
        app = BackpropLab(opened, **kwargs)
        app.trainer.speed_limit = speed
        if pace != "preset":
            app.trainer.pace = pace
        return app
    return make


@pytest.fixture
def diverging():
    return Opened(Preset("diverge", "Too hot", "A learning rate far too high.", DIVERGING),
                  source="diverge")


async def wait_for(pilot, condition, timeout: float = 5.0) -> None:
    """Let the app run until ``condition()`` holds (fails the test after ``timeout``)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not condition():
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.02)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text lines."""
    return "\n".join("".join(seg.text for seg in strip)
                     for strip in app.screen._compositor.render_strips())


async def press_live(pilot, *keys: str) -> None:
    """Press keys while training runs.

    ``pilot.press`` waits until the process is idle (up to a second per key), which never
    happens while the training thread works; this sends the keys as the terminal would
    and gives the app a moment to handle each."""
    from textual import events

    names = {"space": " ", "plus": "+", "minus": "-", "question_mark": "?"}
    for key in keys:
        char = names.get(key, key if len(key) == 1 else None)
        pilot.app._driver.send_message(events.Key(key, char))
        await pilot.pause(0.03)
