"""Generated 2-D data sets, the feature map, splitting and the bundled iris data."""

from __future__ import annotations

import importlib.resources

import numpy as np
import pytest

from engine.data import (
    CLASSIFICATION, DATASETS, EXTENT, FEATURES, REGRESSION, Dataset, feature_map,
    make_dataset, read_iris,
)
from engine.data.dataset import split
from engine.errors import DataError

GENERATED = CLASSIFICATION + REGRESSION
ARRAYS = ("X_train", "y_train", "X_test", "y_test", "points_train", "points_test")


def all_points(d: Dataset) -> np.ndarray:
    return np.vstack([d.points_train, d.points_test])


def all_labels(d: Dataset) -> np.ndarray:
    return np.concatenate([d.y_train, d.y_test])


# ---------------------------------------------------------------------------- shapes

@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("features", [("x1", "x2"), ("x1*x2",), ("sin(x2)", "x1^2", "x1"), FEATURES])
def test_shapes_for_every_set_and_features(name, features):
    d = make_dataset(name, samples=101, train_ratio=0.3, features=features, seed=3)
    n_train = round(101 * 0.3)
    assert d.X_train.shape == (n_train, len(features))
    assert d.X_test.shape == (101 - n_train, len(features))
    assert d.y_train.shape == (n_train,) and d.y_test.shape == (101 - n_train,)
    assert d.points_train.shape == (n_train, 2) and d.points_test.shape == (101 - n_train, 2)
    assert d.X_train.dtype == np.float64 and d.points_train.dtype == np.float64
    assert d.feature_names == features
    assert d.n_features == len(features)
    assert d.extent == EXTENT
    # X is exactly the feature map of the stored points
    np.testing.assert_array_equal(d.X_train, feature_map(d.points_train, features))
    np.testing.assert_array_equal(d.X_test, feature_map(d.points_test, features))


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_classification_labels(name):
    d = make_dataset(name, samples=60)
    assert d.task == "classification" and d.n_classes == 2
    assert d.class_names == ("0", "1")
    for y in (d.y_train, d.y_test):
        assert y.dtype == np.int64
        assert set(np.unique(y)) <= {0, 1}


@pytest.mark.parametrize("name", REGRESSION)
def test_regression_targets(name):
    d = make_dataset(name, samples=500)
    assert d.task == "regression" and d.n_classes == 0 and d.class_names == ()
    y = all_labels(d)
    assert y.dtype == np.float64
    assert -1.05 <= y.min() < -0.5 and 0.5 < y.max() <= 1.05


def test_plane_is_the_scaled_sum():
    d = make_dataset("plane", samples=50)
    p = d.points_train
    np.testing.assert_allclose(d.y_train, (p[:, 0] + p[:, 1]) / 6.0)


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("samples", [4, 7, 400, 401])
def test_binary_sets_are_balanced(name, samples):
    counts = np.bincount(all_labels(make_dataset(name, samples=samples, noise=0.3)), minlength=2)
    assert counts.sum() == samples
    assert all(abs(c - samples / 2) <= 1 for c in counts)


@pytest.mark.parametrize("classes,samples", [(3, 100), (4, 4), (5, 303)])
def test_spiral_has_k_balanced_classes(classes, samples):
    d = make_dataset("spiral", samples=samples, classes=classes)
    counts = np.bincount(all_labels(d), minlength=classes)
    assert len(counts) == classes == d.n_classes
    assert all(abs(c - samples / classes) <= 1 for c in counts)
    assert d.class_names == tuple(str(c) for c in range(classes))


# ---------------------------------------------------------------------------- determinism

@pytest.mark.parametrize("name", GENERATED)
def test_same_arguments_give_identical_arrays(name):
    kwargs = dict(samples=80, noise=0.2, seed=11, features=("x1", "x1*x2"))
    a, b = make_dataset(name, **kwargs), make_dataset(name, **kwargs)
    for field in ARRAYS:
        x, y = getattr(a, field), getattr(b, field)
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), field


@pytest.mark.parametrize("name", GENERATED)
def test_different_seeds_give_different_arrays(name):
    a, b = make_dataset(name, seed=1), make_dataset(name, seed=2)
    assert not np.array_equal(a.points_train, b.points_train)


def test_generation_does_not_touch_the_global_rng():
    np.random.seed(5)
    expected = np.random.random()
    np.random.seed(5)
    make_dataset("spiral", noise=0.4)
    assert np.random.random() == expected


@pytest.mark.parametrize("name", GENERATED)
def test_arrays_are_read_only(name):
    d = make_dataset(name, samples=20)
    for field in ARRAYS:
        arr = getattr(d, field)
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 0


# ---------------------------------------------------------------------------- geometry and noise

@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("noise", [0.0, 0.5])
def test_points_stay_inside_the_extent(name, noise):
    p = all_points(make_dataset(name, samples=1000, noise=noise, classes=2))
    x0, x1, y0, y1 = EXTENT
    assert p[:, 0].min() >= x0 and p[:, 0].max() <= x1
    assert p[:, 1].min() >= y0 and p[:, 1].max() <= y1


RULES = {
    "gauss": lambda p: p[:, 0] + p[:, 1] > 0,  # nearest of the centres (1.5, 1.5), (-1.5, -1.5)
    "xor": lambda p: p[:, 0] * p[:, 1] > 0,
    "circle": lambda p: np.hypot(p[:, 0], p[:, 1]) < 1.8,  # between the disc and the ring
}


@pytest.mark.parametrize("name", sorted(RULES))
def test_noise_makes_a_simple_rule_worse(name):
    def accuracy(noise):
        d = make_dataset(name, samples=1000, noise=noise, train_ratio=1.0)
        return np.mean(RULES[name](d.points_train) == d.y_train)

    assert accuracy(0.0) == 1.0
    assert 0.6 < accuracy(0.5) < 0.95  # overlapping, but far from chance


def nearest_other_class(d: Dataset) -> float:
    """Smallest distance between two points of different classes."""
    p, y = all_points(d), all_labels(d)
    dist = np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(-1))
    return dist[y[:, None] != y[None, :]].min()


@pytest.mark.parametrize("name", ["moons", "spiral", "circle", "gauss"])
def test_noise_zero_keeps_classes_apart_and_noise_mixes_them(name):
    clean = make_dataset(name, samples=400, noise=0.0)
    noisy = make_dataset(name, samples=400, noise=0.5)
    assert nearest_other_class(clean) > 0.02
    assert nearest_other_class(noisy) < nearest_other_class(clean) / 2


def test_regression_noise_changes_targets_not_points():
    clean = make_dataset("multi-gauss", samples=500, noise=0.0)
    noisy = make_dataset("multi-gauss", samples=500, noise=0.5)
    np.testing.assert_array_equal(clean.points_train, noisy.points_train)
    residual = noisy.y_train - clean.y_train
    assert 0.4 < residual.std() < 0.6


# ---------------------------------------------------------------------------- splitting

def test_train_ratio_one_leaves_an_empty_test_set():
    d = make_dataset("xor", samples=50, train_ratio=1.0, features=("x1", "x2", "x1*x2"))
    assert d.X_train.shape == (50, 3)
    assert d.X_test.shape == (0, 3) and d.y_test.shape == (0,)
    assert d.points_test.shape == (0, 2)


def test_at_least_one_training_row():
    d = make_dataset("gauss", samples=4, train_ratio=0.01)
    assert len(d.y_train) == 1 and len(d.y_test) == 3


def test_split_keeps_rows_and_labels_together():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    X_train, y_train, X_test, y_test = split(X, y, 0.7, np.random.default_rng(0))
    assert X_train.shape == (7, 2) and X_test.shape == (3, 2)
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)
    assert sorted(np.concatenate([y_train, y_test])) == list(range(10))
    assert list(y_train) != sorted(y_train)  # shuffled


# ---------------------------------------------------------------------------- feature map

def test_feature_map_values_on_known_points():
    p = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5], [np.pi / 2, -np.pi / 2]])
    X = feature_map(p, FEATURES)
    expected = np.array([
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        [1.0, 2.0, 1.0, 4.0, 2.0, np.sin(1.0), np.sin(2.0)],
        [-3.0, 0.5, 9.0, 0.25, -1.5, np.sin(-3.0), np.sin(0.5)],
        [np.pi / 2, -np.pi / 2, np.pi**2 / 4, np.pi**2 / 4, -np.pi**2 / 4, 1.0, -1.0],
    ])
    np.testing.assert_array_equal(X, expected)


def test_feature_map_keeps_the_requested_order():
    p = np.array([[2.0, 3.0]])
    np.testing.assert_array_equal(feature_map(p, ["x1*x2", "x2", "x1^2"]), [[6.0, 3.0, 4.0]])


def test_feature_map_rejects_unknown_names():
    with pytest.raises(DataError) as e:
        feature_map(np.zeros((1, 2)), ["x1", "x3"])
    assert str(e.value) == ("unknown feature 'x3'; features are 'x1', 'x2', 'x1^2', 'x2^2', "
                            "'x1*x2', 'sin(x1)' or 'sin(x2)'")


@pytest.mark.parametrize("features,message", [
    ((), "choose at least one feature"),
    (("x1", "x1"), "feature 'x1' is chosen twice"),
])
def test_feature_map_rejects_empty_and_repeated(features, message):
    with pytest.raises(DataError, match=message):
        make_dataset("circle", features=features)


# ---------------------------------------------------------------------------- bad arguments

def test_unknown_data_set_lists_the_names():
    with pytest.raises(DataError) as e:
        make_dataset("spirals")
    assert str(e.value) == ("unknown data set 'spirals'; data sets are 'circle', 'xor', 'gauss', "
                            "'spiral', 'moons', 'plane', 'multi-gauss', 'iris', 'digits', "
                            "'csv' or 'draw'")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("noise", [-0.01, 0.51, 1.0, float("nan")])
def test_noise_out_of_range(noise):
    with pytest.raises(DataError, match=r"noise must be between 0 and 0.5 \(0-50%\)"):
        make_dataset("xor", noise=noise)


@pytest.mark.parametrize("name", ["circle", "xor", "gauss", "moons", "plane"])
def test_classes_only_for_spiral(name):
    with pytest.raises(DataError) as e:
        make_dataset(name, classes=3)
    assert str(e.value) == (f"'{name}' has no classes setting; only 'spiral' takes classes "
                            "other than 2, not 3")


@pytest.mark.parametrize("kwargs,message", [
    (dict(classes=1), "classes must be at least 2, not 1"),
    (dict(samples=3), "samples must be at least 4, not 3"),
    (dict(samples=4, classes=5), r"samples must be at least the number of classes \(5\), not 4"),
    (dict(samples=10.5), "samples must be a whole number, not 10.5"),
    (dict(train_ratio=0.0), "train_ratio must be above 0 and at most 1, not 0.0"),
    (dict(train_ratio=1.2), "train_ratio must be above 0 and at most 1, not 1.2"),
    (dict(seed=-1), "seed must be at least 0, not -1"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(DataError, match=message):
        make_dataset("spiral", **kwargs)


def test_csv_set_needs_a_path_and_label():
    with pytest.raises(DataError, match="'csv' data set needs a file"):
        make_dataset("csv", label="y")


def test_csv_set_goes_through_load_csv(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(10)))
    d = make_dataset("csv", csv_path=str(path), label="y", train_ratio=0.6, seed=1,
                     features=("x1*x2",), samples=999)
    assert d.X_train.shape == (6, 1) and d.X_test.shape == (4, 1)
    assert d.feature_names == ("a",) and d.points_train is None and d.extent is None


# ---------------------------------------------------------------------------- iris

def test_iris_file_ships_in_the_package():
    assert (importlib.resources.files("engine") / "data" / "iris.csv").is_file()


def test_iris_raw_values():
    t = read_iris()
    assert t.X.shape == (150, 4)
    assert t.feature_names == ("sepal_length", "sepal_width", "petal_length", "petal_width")
    assert t.class_names == ("setosa", "versicolor", "virginica")
    assert list(np.bincount(t.y)) == [50, 50, 50]
    np.testing.assert_allclose(t.X.mean(axis=0), [5.8433, 3.0573, 3.7580, 1.1993], atol=1e-3)
    np.testing.assert_array_equal(t.X[0], [5.1, 3.5, 1.4, 0.2])
    assert t.X.min() == 0.1 and t.X.max() == 7.9


def test_iris_data_set():
    d = make_dataset("iris", train_ratio=0.8, seed=4, features=("x1",), classes=2, noise=0.5)
    assert d.task == "classification" and d.n_classes == 3
    assert d.class_names == ("setosa", "versicolor", "virginica")
    assert d.X_train.shape == (120, 4) and d.X_test.shape == (30, 4)
    assert d.y_train.dtype == np.int64 and set(np.unique(all_labels_of(d))) == {0, 1, 2}
    assert d.points_train is None and d.points_test is None and d.extent is None
    np.testing.assert_allclose(d.X_train.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(d.X_train.std(axis=0), 1.0)
    assert abs(d.X_test.mean()) > 1e-6  # test rows use the train statistics


def all_labels_of(d: Dataset) -> np.ndarray:
    return np.concatenate([d.y_train, d.y_test])


def test_iris_unstandardized_rows_are_the_raw_rows():
    t = read_iris()
    d = make_dataset("iris", standardize=False, train_ratio=0.5, seed=9)
    rows = np.vstack([d.X_train, d.X_test])
    labels = all_labels_of(d)
    raw = {(tuple(x), int(y)) for x, y in zip(t.X, t.y)}
    assert {(tuple(x), int(y)) for x, y in zip(rows, labels)} == raw
    assert not np.array_equal(rows, t.X)  # shuffled
    again = make_dataset("iris", standardize=False, train_ratio=0.5, seed=9)
    assert again.X_train.tobytes() == d.X_train.tobytes()


def test_iris_names_are_in_datasets():
    assert {"iris", "digits", "csv"} <= set(DATASETS)
