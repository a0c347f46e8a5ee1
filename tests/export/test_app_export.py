"""The app's ``e`` key: a .py path exports the run as it stands as a PyTorch script and
its state beside it (training pauses first); a refusal stays in the prompt."""

from __future__ import annotations

import numpy as np

from tests.tui.conftest import make_app, press_live, screen_text, wait_for  # noqa: F401
from tui.screens.prompt import PathPrompt

SIZE = (100, 30)


async def type_path(pilot, app, path: str) -> None:
    app.screen.query_one("#prompt-path").value = path
    await pilot.press("enter")
    await pilot.pause()


async def test_e_exports_the_paused_run_as_a_pytorch_script(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await press_live(pilot, "space")
        await wait_for(pilot, lambda: app.trainer.step_count > 5)
        await press_live(pilot, "e")
        await wait_for(pilot, lambda: isinstance(app.screen, PathPrompt))
        await pilot.pause()
        assert not app.training  # paused: the script starts where the run stands
        assert "PyTorch script (.py)" in screen_text(app)
        await type_path(pilot, app, str(tmp_path / "mine.py"))
        assert not isinstance(app.screen, PathPrompt)
        trainer = app.trainer
        text = (tmp_path / "mine.py").read_text()
        assert "STATE_FILE = 'mine.npz'" in text and "nn.Linear(" in text
        with np.load(tmp_path / "mine.npz", allow_pickle=False) as npz:
            assert int(npz["step"]) == trainer.step_count > 5
            assert int(npz["epoch"]) == trainer.epoch
            np.testing.assert_array_equal(npz["param:0.weight"], trainer.network.layers[0].W.T)
            np.testing.assert_array_equal(npz["X_train"], trainer.data.X_train)


async def test_a_refused_export_says_why_in_the_prompt(make_app, tmp_path):
    app = make_app("draw")  # no points drawn: nothing to train on
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("e")
        await pilot.pause()
        await type_path(pilot, app, str(tmp_path / "none.py"))
        assert isinstance(app.screen, PathPrompt)
        error = str(app.screen.query_one("#prompt-error").render())
        assert "cannot export to PyTorch: the run has no training rows" in error
        assert not (tmp_path / "none.py").exists() and not (tmp_path / "none.npz").exists()
