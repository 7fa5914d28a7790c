"""Erlang B/C/A formulas reproduce the published reference values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from helpline.domain.routing.queueing import (
    agents_needed,
    average_speed_of_answer,
    erlang_a,
    erlang_b,
    erlang_c,
    service_level,
)

# A copy of /work/shared/data/queueing/reference_values.json (facts from the literature).
REFERENCE = json.loads((Path(__file__).parent / "erlang_reference_values.json").read_text())


def _minutes(case: dict[str, Any], name: str) -> float:
    if f"{name}_minutes" in case:
        return float(case[f"{name}_minutes"])
    return float(case[f"{name}_seconds"]) / 60


@pytest.mark.parametrize(
    "case", REFERENCE["erlang_c"]["cases"], ids=lambda c: f"A{c['A']}-N{c['N']}"
)
def test_erlang_c_matches_reference(case: dict[str, Any]) -> None:
    traffic, agents = float(case["A"]), int(case["N"])
    handling = _minutes(case, "aht")
    assert erlang_c(traffic, agents) == pytest.approx(case["p_wait"], abs=6e-4)
    if "asa_seconds" in case:
        asa = average_speed_of_answer(traffic, agents, handling) * 60
        assert asa == pytest.approx(case["asa_seconds"], abs=0.06)
    if "mean_wait_minutes" in case:
        wait = average_speed_of_answer(traffic, agents, handling)
        assert wait == pytest.approx(case["mean_wait_minutes"], abs=1e-4)
    if "service_level" in case:
        target = _minutes(case, "service_level_t")
        assert service_level(traffic, agents, handling, target) == pytest.approx(
            case["service_level"], abs=6e-4
        )


def test_erlang_a_matches_reference() -> None:
    [case] = REFERENCE["erlang_a"]["cases"]
    # The reference's 0.33 minutes is the usual 20-second target.
    result = erlang_a(
        arrival_rate=case["arrivals_per_minute"],
        handling_time=case["aht_minutes"],
        mean_patience=case["mean_patience_minutes"],
        agents=case["N"],
        target_wait=20 / 60,
    )
    assert result.p_wait == pytest.approx(case["p_wait"], abs=1e-5)
    assert result.p_abandon == pytest.approx(case["p_abandon"], abs=1e-6)
    assert result.occupancy == pytest.approx(case["occupancy"], abs=1e-6)
    assert result.average_speed_of_answer == pytest.approx(case["asa_minutes"], abs=1e-6)
    assert result.service_level == pytest.approx(case["service_level"], abs=1e-6)


def test_erlang_a_with_very_patient_customers_approaches_erlang_c() -> None:
    patient = erlang_a(10 / 3, 3, mean_patience=1e6, agents=14, target_wait=20 / 60)
    assert patient.p_wait == pytest.approx(erlang_c(10, 14), abs=1e-4)
    assert patient.p_abandon < 1e-6
    assert patient.service_level == pytest.approx(service_level(10, 14, 3, 20 / 60), abs=1e-4)


def test_erlang_b_small_case_by_hand() -> None:
    # A = 1, N = 1: B = A / (1 + A) = 0.5
    assert erlang_b(1.0, 1) == 0.5


def test_an_overloaded_queue_always_waits() -> None:
    assert erlang_c(12, 10) == 1.0
    assert math.isinf(average_speed_of_answer(12, 10, 3))
    assert service_level(12, 10, 3, 0.33) == 0.0


def test_staffing_for_eighty_percent_in_twenty_seconds() -> None:
    needed = agents_needed(10, 3, 20 / 60, 0.8)
    assert service_level(10, needed, 3, 20 / 60) >= 0.8
    assert service_level(10, needed - 1, 3, 20 / 60) < 0.8
    # By hand from the reference: N = 13 gives 1 - 0.285 * e^(-1/3) = 0.796 (< 0.8).
    assert needed == 14


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError):
        erlang_c(-1, 3)
    with pytest.raises(ValueError):
        erlang_b(1, 0)
    with pytest.raises(ValueError):
        erlang_a(1, 3, 0, 3, 1)
