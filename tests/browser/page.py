"""Drive the served app in headless Chromium and read what its terminal shows.

textual-serve draws the app with xterm.js on a canvas, so the page holds no text to find.
xterm.js keeps the screen in its buffer (``terminal.buffer.active``), but textual-serve
keeps its ``Terminal`` in a closure. ``CAPTURE`` runs before the page's own scripts and
notes every object assigned to a ``terminal`` property that has a buffer: textual-serve's
``this.terminal = new Terminal(...)`` is such an assignment. Reading that buffer reads
exactly the characters xterm.js has drawn.
"""

from __future__ import annotations

import re
import shutil
import time
from dataclasses import dataclass

CAPTURE = """
Object.defineProperty(Object.prototype, 'terminal', {
  configurable: true,
  get() { return undefined; },
  set(value) {
    Object.defineProperty(this, 'terminal', {value, writable: true, configurable: true,
                                             enumerable: true});
    if (value && value.buffer) { window.__terminals = (window.__terminals || []).concat([value]); }
  },
});
"""

READ_SCREEN = """
const term = (window.__terminals || [])[0];
if (!term) { return null; }
const buffer = term.buffer.active, rows = [];
for (let y = 0; y < term.rows; y++) {
  const line = buffer.getLine(buffer.viewportY + y);
  rows.push(line ? line.translateToString(true) : '');
}
return rows.join('\\n');
"""

#: the status line's step and losses: "step 12 ... loss 0.6931/0.6930" (or "test" between)
STATUS = re.compile(r"step (\d+)\b.*?loss ≈?([-+.\w]+)(?:/| test )≈?([-+.\w]+)")

#: flags for a quiet, headless Chromium that stays on this machine: the page asks a font
#: host for a web font, and every name but 127.0.0.1 resolves to nothing; background
#: tabs keep their timers, so a run in another tab keeps being drawn
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
    "--no-first-run", "--no-default-browser-check", "--disable-extensions",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
)


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    if not browser_binary():
        return "no chromium on PATH (Debian: apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "no chromedriver on PATH (Debian: apt-get install chromium-driver)"
    return None


def browser_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def open_chromium(width: int, height: int):
    """A headless Chromium driven by Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser_binary()
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)


def open_tab(driver, url: str, *, new: bool) -> "AppTab":
    """Load ``url`` in the current tab, or in a new one, with its terminal captured (the
    capture is per tab, so it is set up in each before the page loads)."""
    if new:
        driver.switch_to.new_window("tab")
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CAPTURE})
    driver.get(url)
    return AppTab(driver, driver.current_window_handle)


@dataclass(frozen=True)
class Status:
    """What the app's status line says."""

    step: int
    train_loss: str
    test_loss: str
    line: str


class AppTab:
    """One browser tab showing the served app."""

    def __init__(self, driver, handle: str):
        self.driver = driver
        self.handle = handle

    def front(self) -> "AppTab":
        if self.driver.current_window_handle != self.handle:
            self.driver.switch_to.window(self.handle)
        return self

    def screen(self) -> str:
        """The terminal's text, one line per row ('' before the app has drawn)."""
        return self.front().driver.execute_script(READ_SCREEN) or ""

    def status(self) -> Status | None:
        for line in self.screen().splitlines():
            found = STATUS.search(line)
            if found:
                return Status(int(found.group(1)), found.group(2), found.group(3), line.strip())
        return None

    def wait_status(self, condition, timeout: float = 30.0, what: str = "") -> Status:
        """The status line once ``condition(status)`` holds."""
        end = time.monotonic() + timeout
        status = None
        while time.monotonic() < end:
            status = self.status()
            if status is not None and condition(status):
                return status
            time.sleep(0.1)
        raise AssertionError(f"{what or 'status'} not reached in {timeout:g} s; last: "
                             f"{status}\n{self.screen()}")

    def press(self, keys: str) -> None:
        """Type into the terminal as a person would (xterm.js reads its hidden textarea)."""
        from selenium.webdriver.common.by import By

        self.front().driver.find_element(By.CSS_SELECTOR, "textarea.xterm-helper-textarea") \
            .send_keys(keys)

    def session_ended(self) -> bool:
        """Whether the page shows textual-serve's "Session ended" (the app quit)."""
        return bool(self.front().driver.execute_script(
            "return document.body.classList.contains('-closed')"))
