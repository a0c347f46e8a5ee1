"""The lr schedule in the configuration pane: a choice, and its settings when they apply."""

from __future__ import annotations

import pytest

from tui.widgets.choice import Choice

SIZE = (80, 24)
SETTINGS = {
    "constant": (),
    "step": ("training.lr_step_size", "training.lr_gamma"),
    "exponential": ("training.lr_gamma",),
    "cosine": ("training.lr_t_max", "training.lr_eta_min"),
    "warmup": ("training.lr_warmup_start", "training.lr_warmup_end",
               "training.lr_warmup_epochs"),
}
ALL = {path for paths in SETTINGS.values() for path in paths}


def shown(pane) -> set[str]:
    return {path for path in ALL if pane.row(path).display}


async def test_the_schedule_is_a_choice_whose_settings_show_when_they_apply(make_app):
    app = make_app("xor", speed=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        pane = app.config_pane
        await pane.populate()
        await pilot.pause()
        choice = pane.row("training.lr_schedule").control
        assert isinstance(choice, Choice)
        assert choice.values == list(SETTINGS) and choice.value == "constant"
        assert shown(pane) == set()
        for name, paths in SETTINGS.items():
            choice.value = name
            await pilot.pause()
            assert pane.draft.training.lr_schedule == name
            assert shown(pane) == set(paths)
        # applied live: the trainer's config follows the draft
        assert app.trainer.config.training.lr_schedule == "warmup"


@pytest.mark.parametrize("path,text,value", [
    ("training.lr_warmup_epochs", "12", 12),
    ("training.lr_warmup_start", "0.1", 0.1),
])
async def test_a_typed_setting_changes_the_draft_and_a_bad_one_is_refused(make_app, path,
                                                                        text, value):
    app = make_app("xor", speed=None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("c")
        pane = app.config_pane
        await pane.populate()
        pane.row("training.lr_schedule").control.value = "warmup"
        await pilot.pause()
        assert pane.commit(path, text)
        assert pane.draft.get(path) == value
        before = pane.draft
        assert not pane.commit(path, "0")
        assert pane.draft == before
        assert path.split(".")[1] in pane.error_for(path) or "not allowed" in pane.error_for(path)
