"""``backprop-lab serve`` in a real browser: Debian's headless Chromium, driven by selenium.

Load the page, see the app, press space, see the step count and the loss change, pause; a
second tab gets its own app and its own run; q ends each. What the page shows is
compared with the engine's own numbers for the same preset.

With ``BACKPROP_LAB_SCREENSHOT=path.png`` the picture of the page mid-training is also
written there (the README's picture: ``docs/browser.png``).
"""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

import engine
from tui.widgets.status import loss as shown_loss

from .page import missing_browser, open_chromium, open_tab
from .server import alive, start_serve

pytestmark = pytest.mark.skipif(missing_browser() is not None,
                                reason=f"browser test: {missing_browser()}")

#: the window: room for the app's wide layout (about 120x36 cells at 16 px)
WINDOW = (1200, 800)


@pytest.fixture
def served():
    server = start_serve("xor")
    yield server
    if server.process.poll() is None:
        server.stop(signal.SIGKILL)


@pytest.fixture
def driver():
    chromium = open_chromium(*WINDOW)
    yield chromium
    chromium.quit()


def engine_losses(steps: int) -> tuple[str, str]:
    """The train and test loss the engine gives the xor preset after ``steps`` steps, as
    the status line writes them."""
    trainer = engine.Trainer(engine.load_preset("xor"))
    snap = trainer.step(steps) if steps else trainer.latest
    return shown_loss(snap.train_loss), shown_loss(snap.test_loss)


def test_two_tabs_train_their_own_runs(served, driver, tmp_path):
    first = open_tab(driver, served.url, new=False)
    start = first.wait_status(lambda s: s.step == 0, what="the app in the first tab")
    assert "ready" in start.line
    assert (start.train_loss, start.test_loss) == engine_losses(0)
    screen = first.screen()
    assert "Boundary" in screen and "Loss" in screen and "Gradients" in screen

    first.press(" ")  # play
    moving = first.wait_status(lambda s: s.step > 0, what="training")
    later = first.wait_status(lambda s: s.step > moving.step, what="more steps")
    assert "training" in later.line
    assert later.train_loss != start.train_loss  # the loss moves as it trains
    time.sleep(1.5)  # let the boundary take shape for the picture
    picture = tmp_path / "browser.png"
    assert driver.save_screenshot(str(picture)) and picture.stat().st_size > 10_000
    if os.environ.get("BACKPROP_LAB_SCREENSHOT"):
        shutil.copyfile(picture, os.environ["BACKPROP_LAB_SCREENSHOT"])
    first.press(" ")  # pause
    paused = first.wait_status(lambda s: "paused" in s.line or "finished" in s.line,
                               what="the pause")
    assert paused.step > later.step

    second = open_tab(driver, served.url, new=True)
    fresh = second.wait_status(lambda s: s.step == 0, what="the app in the second tab")
    assert "ready" in fresh.line and (fresh.train_loss, fresh.test_loss) == engine_losses(0)
    assert len(served.app_processes()) == 2  # one app process per tab
    second.press("n")  # one step in the second tab only
    one = second.wait_status(lambda s: s.step == 1, what="one step")
    assert (one.train_loss, one.test_loss) == engine_losses(1)

    again = first.status()  # the first tab's run is where it was left
    assert again is not None and (again.step, again.train_loss) == (paused.step, paused.train_loss)

    apps = served.app_processes()
    for tab in (first, second):
        tab.press("q")
        end = time.monotonic() + 20
        while not tab.session_ended() and time.monotonic() < end:
            time.sleep(0.1)
        assert tab.session_ended(), tab.screen()
    end = time.monotonic() + 20
    while any(alive(pid) for pid in apps) and time.monotonic() < end:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in apps)
    code, out, err = served.stop(signal.SIGINT)
    assert code == 0 and err == "", err
