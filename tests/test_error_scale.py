"""The CS231n scale of relative errors (softmaxnotes.error_scale, chapter 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import softmaxnotes as sn


@pytest.mark.parametrize(
    "error,reading",
    [
        (0.0, "good"),
        (5.9e-8, "good"),
        (1e-7, "good"),  # each band includes its upper bound
        (np.nextafter(1e-7, 1.0), "fine only with kinks"),
        (1e-4, "fine only with kinks"),
        (2.2e-4, "uneasy"),
        (1e-2, "uneasy"),
        (0.0101, "probably wrong"),
        (2.0, "probably wrong"),
        (math.inf, "probably wrong"),
        (np.float32(3e-5), "fine only with kinks"),
        (np.float64(3e-3), "uneasy"),
        (0, "good"),
    ],
)
def test_readings(error, reading):
    assert sn.relative_error_reading(error) == reading


def test_scale_is_increasing_and_ends_unbounded():
    uppers = [upper for upper, _ in sn.RELATIVE_ERROR_SCALE]
    assert uppers == sorted(uppers) and uppers[-1] == math.inf
    assert [reading for _, reading in sn.RELATIVE_ERROR_SCALE] == [
        "good", "fine only with kinks", "uneasy", "probably wrong"]


def test_readings_follow_max_relative_error():
    analytic = np.array([1.0, -2.0, 3.0])
    assert sn.relative_error_reading(sn.max_relative_error(analytic, analytic * (1 + 1e-9))) == "good"
    assert sn.relative_error_reading(sn.max_relative_error(analytic, -analytic)) == "probably wrong"


@pytest.mark.parametrize("bad", [math.nan, -1e-9, -math.inf])
def test_impossible_errors_are_refused(bad):
    with pytest.raises(ValueError, match=r"\brelative_error\b"):
        sn.relative_error_reading(bad)


@pytest.mark.parametrize("bad", [True, np.True_, "1e-3", None, 1j, np.array([1e-3]), [1e-3]])
def test_non_numbers_are_refused(bad):
    with pytest.raises(TypeError, match=r"\brelative_error\b"):
        sn.relative_error_reading(bad)
