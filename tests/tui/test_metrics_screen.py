"""The metrics screen: the confusion matrix and per-class accuracy it shows are the
snapshot's, at 80x24 and 120x36, test and train, with plain characters."""

from __future__ import annotations

import numpy as np
import pytest

from engine.training.probe import class_accuracy
from tests.tui.conftest import screen_text, wait_for
from tui.screens.metrics import MetricsScreen


def shown_rows(text: str, names) -> list[list[str]]:
    """The matrix rows on screen: each class's counts and its accuracy."""
    lines = text.splitlines()
    rows = []
    for name in names:
        line = next(l for l in lines if l.split()[:1] == [name] and "%" in l)
        rows.append(line.split()[1:])
    return rows


def expected_rows(matrix) -> list[list[str]]:
    return [[str(int(v)) for v in row] + [f"{r:.1%}"]
            for row, r in zip(matrix, class_accuracy(matrix))]


@pytest.mark.parametrize("size", [(80, 24), (120, 36)])
@pytest.mark.parametrize("preset", ["iris", "xor"])
async def test_the_screen_shows_the_snapshot_matrix(make_app, monkeypatch, size, preset):
    monkeypatch.setenv("NO_COLOR", "1")
    app = make_app(preset)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await pilot.press("n", "n", "n")  # a few steps: the matrix is no longer the start's
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await pilot.pause()
        screen = app.screen
        snap = app.session.latest
        names = app.session.data.class_names
        assert screen.shown is snap and snap.step == 3
        text = screen_text(app)
        assert "Confusion matrix, test split" in text
        assert f"step {snap.step}" in text
        assert shown_rows(text, names) == expected_rows(snap.confusion_test)
        total = int(snap.confusion_test.sum())
        assert f"{total} rows" in text and f"accuracy {snap.test_accuracy:.1%}" in text
        assert all(len(line.rstrip()) <= size[0] for line in text.splitlines())

        await pilot.press("s")  # the train split
        text = screen_text(app)
        assert "Confusion matrix, train split" in text
        assert shown_rows(text, names) == expected_rows(snap.confusion_train)

        await pilot.press("escape")
        await pilot.press("n")  # a new snapshot reaches a reopened screen through the signal
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen.shown.step == 5)
        await pilot.pause()
        text = screen_text(app)
        assert shown_rows(text, names) == expected_rows(app.screen.shown.confusion_test)
        assert app.screen.shown is app.session.latest


async def test_ten_classes_fit_80_columns():
    from tui.screens.metrics import matrix_text

    rng = np.random.default_rng(0)
    matrix = rng.integers(0, 400, size=(10, 10))
    names = [f"digit-{i}-long-name" for i in range(10)]
    text = matrix_text(matrix, names, 76).plain
    assert all(len(line) <= 76 for line in text.splitlines())
    rows = [l.split() for l in text.splitlines() if "%" in l]
    assert [r[-11:] for r in rows] == expected_rows(matrix)


async def test_a_regression_run_says_so(make_app):
    app = make_app("regression-plane")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, MetricsScreen))
        await pilot.pause()
        assert "regression" in screen_text(app)


@pytest.mark.parametrize("plain", [False, True], ids=["colour", "plain"])
@pytest.mark.parametrize("size", [(80, 24), (120, 36)], ids=["80x24", "120x36"])
def test_snapshot(snap_compare, make_app, size, plain):
    app = make_app("iris", plain=plain, speed=None)

    async def run_before(pilot):
        await pilot.press("n", "n", "n", "n", "n")
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MetricsScreen))
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
