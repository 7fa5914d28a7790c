from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from helpline.adapters.ai.store import ARRAYS_FILE, ModelFileError, read_model, write_model


def test_a_model_round_trips_through_arrays_and_json(tmp_path: Path) -> None:
    weights = np.arange(6, dtype=np.float32).reshape(2, 3)
    write_model(tmp_path, "kind-a", {"weights": weights}, {"labels": ["a", "b"]})

    arrays, meta = read_model(tmp_path, "kind-a")

    assert np.array_equal(arrays["weights"], weights)
    assert meta == {"labels": ["a", "b"]}


def test_a_tampered_model_file_is_refused(tmp_path: Path) -> None:
    write_model(tmp_path, "kind-a", {"weights": np.zeros(3, dtype=np.float32)}, {})
    with (tmp_path / ARRAYS_FILE).open("ab") as stream:
        stream.write(b"tampered")

    with pytest.raises(ModelFileError, match="SHA-256"):
        read_model(tmp_path, "kind-a")


def test_a_model_of_another_kind_is_refused(tmp_path: Path) -> None:
    write_model(tmp_path, "kind-a", {"weights": np.zeros(1, dtype=np.float32)}, {})

    with pytest.raises(ModelFileError, match="kind-b"):
        read_model(tmp_path, "kind-b")


def test_a_missing_model_is_reported_not_crashed_on(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError):
        read_model(tmp_path / "nothing-here", "kind-a")


def test_object_arrays_that_would_need_pickle_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="pickle"):
        write_model(tmp_path, "kind-a", {"bad": np.array([{"x": 1}], dtype=object)}, {})
