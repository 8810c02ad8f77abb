"""How to read the relative error of a gradient check: CS231n's graded scale.

Introduced in chapter 2, "The Jacobian of softmax", and used by every chapter that checks a
derivative against finite differences. The relative error is the one of
:func:`softmaxnotes.max_relative_error`, :math:`|a - b| / \\max(|a|, |b|, \\varphi)` entry by entry:
the pure relative error of CS231n's notes, except where both entries are below the absolute floor
:math:`\\varphi` (chapter 3, "Cross-entropy and its gradient"). The scale is meant for checks run
in float64:

========================  ===================================================================
relative error            reading
========================  ===================================================================
at most 1e-7              good
above 1e-7, at most 1e-4  fine only with kinks (acceptable for a function with kinks, not yet
                          good for a smooth one such as softmax)
above 1e-4, at most 1e-2  uneasy: find the cause before trusting the derivative
above 1e-2                probably wrong
========================  ===================================================================
"""

from __future__ import annotations

import math
import numbers

__all__ = ["RELATIVE_ERROR_SCALE", "relative_error_reading"]

RELATIVE_ERROR_SCALE: tuple[tuple[float, str], ...] = (
    (1e-7, "good"),
    (1e-4, "fine only with kinks"),
    (1e-2, "uneasy"),
    (math.inf, "probably wrong"),
)
"""The bands of the scale: (upper bound, inclusive; reading), in increasing order."""


def relative_error_reading(relative_error: float) -> str:
    """The reading of ``relative_error`` on CS231n's scale (:data:`RELATIVE_ERROR_SCALE`).

    Each band includes its upper bound: 1e-7 reads "good", 1.1e-7 "fine only with kinks".
    ``relative_error`` must be a real number that is 0 or more (``inf`` reads "probably wrong");
    nan, negative numbers, bools, strings and arrays are refused with an error naming it.
    """
    if isinstance(relative_error, bool) or not isinstance(relative_error, numbers.Real):
        raise TypeError(
            f"relative_error must be a real number, got {relative_error!r} of type "
            f"{type(relative_error).__name__}"
        )
    relative_error = float(relative_error)
    if math.isnan(relative_error) or relative_error < 0:
        raise ValueError(f"relative_error must be a number >= 0, got {relative_error!r}")
    for upper, reading in RELATIVE_ERROR_SCALE:
        if relative_error <= upper:
            return reading
    raise AssertionError("unreachable: the last band is unbounded")  # pragma: no cover
