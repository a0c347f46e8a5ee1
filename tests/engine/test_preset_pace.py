"""Each preset's default run, watched in the app at the preset's pace, lasts 3 to 60 s."""

from __future__ import annotations

import pytest

from engine.errors import ConfigError
from engine.presets import DEFAULT_PACE, bundled_names, load_preset, parse_preset, preset_toml
from engine.training.trainer import Trainer


@pytest.mark.parametrize("name", bundled_names())
def test_default_run_lasts_3_to_60_seconds_at_its_pace(name):
    preset = load_preset(name)
    t = preset.config.training
    trainer = Trainer(preset, grid=(2, 2))
    if preset.config.data.dataset == "draw" and not preset.config.data.path:
        # it starts empty: nothing trains until drawn
        assert trainer.not_ready and trainer.run().step == 0
        return
    snap = trainer.run(max_epochs=t.epochs, target_loss=t.target_loss,
                                            target_accuracy=t.target_accuracy)
    assert preset.pace is not None
    seconds = snap.epoch / preset.pace  # the app trains at most `pace` epochs a second
    assert 3 <= seconds <= 60, f"{name}: {snap.epoch} epochs at {preset.pace:g} ep/s"


def test_pace_round_trips_and_defaults():
    preset = load_preset("iris")
    assert parse_preset(preset_toml(preset)).pace == preset.pace != DEFAULT_PACE
    text = preset_toml(preset).replace(f"pace = {preset.pace}", 'pace = "max"')
    assert parse_preset(text).pace is None
    assert load_preset("xor").pace == DEFAULT_PACE


@pytest.mark.parametrize("bad", ["0", "-3", '"fast"', "true", "1e9"])
def test_a_bad_pace_is_refused_in_one_line(bad):
    text = preset_toml(load_preset("xor"))
    text = text.replace("pace = 30.0", f"pace = {bad}")
    with pytest.raises(ConfigError) as info:
        parse_preset(text, source="mine.toml")
    message = str(info.value)
    assert "mine.toml" in message and "pace" in message and "\n" not in message
