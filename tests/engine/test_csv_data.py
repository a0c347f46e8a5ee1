"""Loading data sets from CSV files: parsing, labels, standardization and error messages."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.tables import load_csv, read_csv
from engine.errors import DataError


def write(tmp_path, text: str, name: str = "data.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error(path, **kwargs) -> str:
    kwargs.setdefault("label", "y")
    with pytest.raises(DataError) as e:
        load_csv(path, **kwargs)
    message = str(e.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------- good files

def test_string_labels_are_sorted_and_named(tmp_path):
    path = write(tmp_path, "x1,species,x2\n1,cat,10\n2,dog,20\n3,ant,30\n4,dog,40\n")
    t = read_csv(path, label="species")
    assert t.feature_names == ("x1", "x2")
    assert t.class_names == ("ant", "cat", "dog")
    np.testing.assert_array_equal(t.y, [1, 2, 0, 2])
    assert t.y.dtype == np.int64
    np.testing.assert_array_equal(t.X, [[1, 10], [2, 20], [3, 30], [4, 40]])
    d = load_csv(path, label="species", train_ratio=1.0, standardize=False)
    assert d.task == "classification" and d.n_classes == 3
    assert d.class_names == ("ant", "cat", "dog")
    assert d.name == "data.csv" and d.points_train is None and d.extent is None
    # rows keep their labels through the shuffle
    for x, y in zip(d.X_train, d.y_train):
        assert t.y[int(x[0]) - 1] == y


def test_numeric_labels_sort_as_numbers(tmp_path):
    path = write(tmp_path, "a,y\n0,10\n1,2\n2,2.0\n3,-1\n")
    t = read_csv(path, label="y")
    assert t.class_names == ("-1", "2", "10")
    np.testing.assert_array_equal(t.y, [2, 1, 1, 0])


def test_regression_targets_are_floats(tmp_path):
    path = write(tmp_path, "a,b,target\n1,2,0.5\n3,4,-1.25\n5,6,1e2\n")
    d = load_csv(path, label="target", task="regression", train_ratio=1.0, standardize=False)
    assert d.task == "regression" and d.n_classes == 0 and d.class_names == ()
    assert d.y_train.dtype == np.float64
    assert sorted(d.y_train) == [-1.25, 0.5, 100.0]
    assert d.X_train.shape == (3, 2)


def test_blank_lines_spaces_and_bom_are_tolerated(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeff a , y \n\n 1.5 , p \n\n\n2,q\r\n".encode("utf-8"))
    t = read_csv(path, label="y")
    assert t.feature_names == ("a",)
    np.testing.assert_array_equal(t.X[:, 0], [1.5, 2.0])
    assert t.class_names == ("p", "q")


def test_standardization_uses_train_statistics(tmp_path):
    rng = np.random.default_rng(0)
    rows = [f"{a:.6f},{b:.6f},7,{i % 3}" for i, (a, b) in enumerate(rng.normal(5, 3, (40, 2)))]
    path = write(tmp_path, "a,b,const,y\n" + "\n".join(rows) + "\n")
    raw = load_csv(path, label="y", standardize=False, train_ratio=0.75, seed=2)
    std = load_csv(path, label="y", standardize=True, train_ratio=0.75, seed=2)
    assert std.X_train.shape == (30, 3) and std.X_test.shape == (10, 3)
    np.testing.assert_array_equal(raw.y_train, std.y_train)
    mean, sd = raw.X_train.mean(axis=0), raw.X_train.std(axis=0)
    np.testing.assert_allclose(std.X_train[:, :2].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(std.X_train[:, :2].std(axis=0), 1.0)
    np.testing.assert_allclose(std.X_test[:, :2], (raw.X_test[:, :2] - mean[:2]) / sd[:2])
    # a constant column is centred, never divided by zero
    assert np.all(std.X_train[:, 2] == 0.0) and np.all(std.X_test[:, 2] == 0.0)


def test_split_is_seeded(tmp_path):
    path = write(tmp_path, "a,y\n" + "".join(f"{i},{i % 2}\n" for i in range(30)))
    a = load_csv(path, label="y", seed=5)
    b = load_csv(path, label="y", seed=5)
    c = load_csv(path, label="y", seed=6)
    assert a.X_train.tobytes() == b.X_train.tobytes() and a.y_test.tobytes() == b.y_test.tobytes()
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_train.shape == (24, 1)  # default train_ratio 0.8
    assert not a.X_train.flags.writeable


def test_accepts_a_str_path(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n")
    assert load_csv(str(path), label="y").n_features == 1


# ---------------------------------------------------------------------------- errors

def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    assert error(path) == f"{path}: no such file"


@pytest.mark.parametrize("text", ["", "\n\n  \n"])
def test_empty_file(tmp_path, text):
    path = write(tmp_path, text)
    assert error(path) == f"{path}: the file is empty"


def test_missing_label_column(tmp_path):
    path = write(tmp_path, "a,b,c\n1,2,3\n")
    assert error(path, label="y") == f"{path}: no column named 'y' in the header (line 1, 3 columns)"
    path = write(tmp_path, "a,Y,c\n1,2,3\n", "case.csv")
    assert error(path, label="y") == (f"{path}: no column named 'y' in the header (line 1, "
                                      "3 columns); column 2 differs only in case")


def test_ragged_row_counts_blank_lines_and_the_header(tmp_path):
    path = write(tmp_path, "a,b,c,y\n1,2,3,0\n\n4,5,6,1\n7,8,9,0\n1,2,3,1\n1,2,3\n")
    assert error(path) == f"{path}, line 7: 3 values, the header has 4 columns"


def test_too_many_values(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1,3\n")
    assert error(path) == f"{path}, line 3: 3 values, the header has 2 columns"


def test_not_a_number(tmp_path):
    path = write(tmp_path, "x1,x2,y\n1,2,a\n3,4,b\n\n5,abc,a\n")
    path2 = write(tmp_path, "x1,x2,y\n1,2,a\n3,4,b\n5,6,a\nabc,7,b\n", "other.csv")
    assert error(path) == f"{path}, line 5, column 2: not a number; every feature must be a number"
    assert error(path2) == f"{path2}, line 5, column 1: not a number; every feature must be a number"


def test_empty_cell_is_not_a_number(tmp_path):
    path = write(tmp_path, "x1,y\n1,a\n,b\n")
    assert error(path) == f"{path}, line 3, column 1: empty; every feature must be a number"


def test_infinite_value(tmp_path):
    path = write(tmp_path, "x1,y\n1,a\ninf,b\n")
    assert error(path) == (f"{path}, line 3, column 1: NaN or infinite; every feature must be "
                           "a finite number")


def test_regression_label_must_be_a_number(tmp_path):
    path = write(tmp_path, "x1,y\n1,0.5\n2,high\n")
    assert error(path, task="regression") == (f"{path}, line 3, column 2: not a number; the label "
                                              "(a regression target) must be a number")


def test_only_a_header(tmp_path):
    path = write(tmp_path, "a,b,y\n\n")
    assert error(path) == f"{path}: no data rows after the header"


def test_single_class(tmp_path):
    path = write(tmp_path, "a,y\n1,yes\n2,yes\n")
    assert error(path) == (f"{path}: column 2 (the label 'y') holds only one class; "
                           "classification needs at least 2")


def test_empty_label(tmp_path):
    path = write(tmp_path, "a,y\n1,yes\n2,\n")
    assert error(path) == f"{path}, line 3, column 2 (the label): empty; every row needs a class"


def test_label_is_the_only_column(tmp_path):
    path = write(tmp_path, "y\n1\n2\n")
    assert error(path) == f"{path}: no feature columns besides the label 'y'"


def test_duplicate_column_name(tmp_path):
    path = write(tmp_path, "a,a,y\n1,2,3\n")
    assert error(path) == f"{path}, line 1: columns 1 and 2 have the same name"


def test_bad_task(tmp_path):
    path = write(tmp_path, "a,y\n1,2\n")
    assert error(path, task="ranking") == "task must be 'classification' or 'regression', not 'ranking'"


def test_bad_train_ratio(tmp_path):
    path = write(tmp_path, "a,y\n1,0\n2,1\n")
    assert error(path, train_ratio=0) == "train_ratio must be above 0 and at most 1, not 0"
