"""Config validation, key paths in errors, presets in TOML."""

import pytest

import engine
from engine.config import Config
from engine.errors import ConfigError
from engine.presets import load_preset, parse_preset, preset_toml, save_preset

GOOD = """
title = "T"
lesson = "L"
[data]
dataset = "spiral"
classes = 3
[model]
layers = [{ units = 8, activation = "relu" }, { units = 4, activation = "tanh" }]
[training]
lr = 0.1
batch_size = 16
"""


def test_defaults_are_derived_from_the_task():
    c = Config.from_dict({"data": {"dataset": "spiral", "classes": 3}})
    assert (c.output_activation(), c.loss_name(), c.output_units()) == ("softmax", "ce", 3)
    c = Config.from_dict({"data": {"dataset": "circle"}})
    assert (c.output_activation(), c.loss_name(), c.output_units()) == ("sigmoid", "bce", 1)
    c = Config.from_dict({"data": {"dataset": "plane"}})
    assert (c.output_activation(), c.loss_name(), c.output_units()) == ("linear", "mse", 1)


@pytest.mark.parametrize("section,key,value,message", [
    ("model", "layers", [{"units": 8, "activation": "relu"}, {"units": 4, "activation": "swish"}],
     "model.layers[1].activation: 'swish' is not allowed; use one of 'linear', 'sigmoid', 'tanh', 'relu' or 'leaky_relu'"),
    ("model", "layers", [{"units": 0}], "model.layers[0].units: 0 is not allowed; use an integer >= 1 and <= 4096"),
    ("model", "layers", [{"units": 3, "width": 2}], "model.layers[0].width: unknown key; allowed: 'activation' or 'units'"),
    ("data", "noise", 0.7, "data.noise: 0.7 is not allowed; use a number >= 0 and <= 0.5"),
    ("data", "dataset", "mnist", "data.dataset: 'mnist' is not allowed; use one of 'circle'"),
    ("data", "features", ["x1", "x3"], "data.features: ['x1', 'x3'] is not allowed; use a list of 'x1', 'x2'"),
    ("training", "lr", 0, "training.lr: 0 is not allowed; use a number > 0 and <= 100"),
    ("training", "batch_size", -3, "training.batch_size: -3 is not allowed; use an integer >= 1 or 'full'"),
    ("training", "optimizer", "lbfgs", "training.optimizer: 'lbfgs' is not allowed; use one of 'sgd', 'rmsprop' or 'adam'"),
    ("training", "momentum", 1.0, "training.momentum: 1.0 is not allowed; use a number >= 0 and < 1"),
    ("training", "learning_rate", 0.1, "training.learning_rate: unknown key; allowed:"),
])
def test_errors_name_the_key_path_and_what_is_allowed(section, key, value, message):
    with pytest.raises(ConfigError) as err:
        Config.from_dict({section: {key: value}}, source="my.toml")
    assert str(err.value).startswith("my.toml: " + message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("d,message", [
    ({"model": {"output": "softmax", "loss": "mse"}}, "model.loss: loss 'mse' cannot follow a softmax output; use loss 'ce' with softmax"),
    ({"model": {"output": "linear", "loss": "bce"}}, "model.loss: loss 'bce' needs a 'sigmoid' output"),
    ({"data": {"dataset": "spiral", "classes": 3}, "model": {"loss": "bce"}}, "loss 'bce' needs a 'sigmoid' output, not 'softmax'"),
    ({"data": {"dataset": "spiral", "classes": 3}, "model": {"output": "sigmoid", "loss": "bce"}}, "loss 'bce' is for 2 classes, the data has 3"),
    ({"data": {"dataset": "plane"}, "model": {"output": "sigmoid", "loss": "bce"}}, "regression data needs loss 'mse'"),
    ({"data": {"dataset": "csv"}}, "data.path: dataset 'csv' needs data.path"),
    ({"data": {"dataset": "xor", "classes": 3}}, "data.classes: only 'spiral' and 'draw' have a choice of classes"),
    ({"extra": {}}, "extra: unknown key; allowed: 'data', 'model' or 'training'"),
])
def test_cross_field_errors(d, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Config.from_dict(d)


def test_with_value_validates_and_leaves_the_original():
    c = Config.from_dict({"model": {"layers": [{"units": 8, "activation": "tanh"}]}})
    c2 = c.with_value("model.layers[0].units", 5)
    assert c2.model.layers[0].units == 5 and c.model.layers[0].units == 8
    assert c.with_value("training.lr", "0.3").training.lr == 0.3
    with pytest.raises(ConfigError, match="training.lr: 'fast' is not allowed"):
        c.with_value("training.lr", "fast")
    with pytest.raises(ConfigError, match="model.layers\\[3\\].units: no such setting"):
        c.with_value("model.layers[3].units", 4)
    assert c.needs_new_weights(c2) and not c.needs_new_weights(c.with_value("training.lr", 0.5))


def test_toml_round_trip(tmp_path):
    preset = parse_preset(GOOD, name="t")
    path = tmp_path / "t.toml"
    save_preset(preset, path)
    again = load_preset(str(path))
    assert again.config == preset.config and again.title == "T" and again.lesson == "L"
    assert again.config.training.batch_size == 16
    assert parse_preset(preset_toml(preset)).config == preset.config
    assert 'batch_size = "full"' in preset_toml(parse_preset(GOOD.replace("batch_size = 16", 'batch_size = "full"')))


def test_preset_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(GOOD.replace('"relu"', '"relux"'))
    with pytest.raises(ConfigError, match=f"^{bad}: model.layers\\[0\\].activation: 'relux' is not allowed"):
        load_preset(str(bad))
    bad.write_text("title = 'x'\nlesson = 'y'\n[data\n")
    with pytest.raises(ConfigError, match=f"^{bad}: not valid TOML: .*line 3"):
        load_preset(str(bad))
    bad.write_text('lesson = "y"\n')
    with pytest.raises(ConfigError, match=f"^{bad}: title: a preset needs this as a non-empty string"):
        load_preset(str(bad))
    bad.write_text(GOOD + "\ncolour = 'red'\n")
    with pytest.raises(ConfigError, match="colour: unknown key"):
        load_preset(str(bad))
    with pytest.raises(ConfigError, match="no bundled preset named 'nope'; bundled: .*, xor$"):
        load_preset("nope")
    with pytest.raises(ConfigError, match="missing.toml: no such file"):
        load_preset("missing.toml")


def test_csv_path_is_relative_to_the_preset(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,y\n1,2,0\n2,1,1\n3,3,0\n0,1,1\n")
    (tmp_path / "p.toml").write_text('title="t"\nlesson="l"\n[data]\ndataset="csv"\npath="d.csv"\nlabel="y"\n')
    preset = load_preset(str(tmp_path / "p.toml"))
    assert preset.config.data.path == str(tmp_path / "d.csv")
    trainer = engine.Trainer(preset)
    assert trainer.data.n_features == 2 and trainer.data.n_classes == 2


def test_a_csv_or_a_folder_is_not_a_preset(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,y\n1,2,0\n")
    with pytest.raises(ConfigError, match="d.csv: a CSV is data, not a preset; write a preset with"):
        load_preset(str(data))
    with pytest.raises(ConfigError, match="is a folder; name a preset .toml file in it"):
        load_preset(str(tmp_path) + "/")
