"""Shared settings and reference implementations for the softmaxnotes test suite.

Hypothesis runs derandomized (the same examples on every run and on every xdist worker) and without
an example database, so a failure is reproducible from the test id alone. Set
``HYPOTHESIS_PROFILE=thorough`` for a longer (1000 examples per test), still deterministic run.

The helpers below are plain functions (not fixtures) so that ``@given`` tests can use them; test
modules import them with ``from conftest import ...`` (pytest puts ``tests/`` on ``sys.path``).

Accuracy is measured against mpmath at 80 significant digits. An error is reported in *units of
eps * scale*, where ``eps`` is the machine epsilon of the dtype (the ulp of 1, twice the unit
roundoff u) and ``scale`` is the error scale a backward-stable shift-by-the-max algorithm can
achieve, derived in each helper's docstring; one unit is between one and two ulps of ``scale``.
``units <= k`` is the assertion; the ``k`` is stated in every test.
"""

from __future__ import annotations

import os

import mpmath
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

settings.register_profile(
    "softmaxnotes",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=100,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough", parent=settings.get_profile("softmaxnotes"), max_examples=1000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "softmaxnotes"))

MP_DPS = 80
FLOAT_DTYPES = (np.float32, np.float64)


# --------------------------------------------------------------------------------------------------
# Hypothesis strategies
# --------------------------------------------------------------------------------------------------


def bounded_floats(dtype, bound: float = 1e3) -> st.SearchStrategy:
    """Finite floats of ``dtype`` in [-bound, bound]."""
    width = np.finfo(dtype).bits
    return st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)


def any_finite_floats(dtype) -> st.SearchStrategy:
    """Every finite float of ``dtype``, from subnormals to +-max."""
    return st.floats(allow_nan=False, allow_infinity=False, width=np.finfo(dtype).bits)


def logit_arrays(dtype, bound: float | None = 1e3, max_dims: int = 3, max_side: int = 5):
    """Arrays of 1..max_dims dimensions, every side 1..max_side, finite entries."""
    elements = any_finite_floats(dtype) if bound is None else bounded_floats(dtype, bound)
    shapes = hnp.array_shapes(min_dims=1, max_dims=max_dims, min_side=1, max_side=max_side)
    return hnp.arrays(dtype, shapes, elements=elements)


def vectors(dtype, bound: float | None = 1e3, min_size: int = 1, max_size: int = 6):
    elements = any_finite_floats(dtype) if bound is None else bounded_floats(dtype, bound)
    return hnp.arrays(dtype, st.integers(min_size, max_size), elements=elements)


@st.composite
def arrays_and_axis(draw, dtype, bound: float | None = 1e3, max_dims: int = 3, max_side: int = 5):
    """An array and an axis for it: every valid integer (negative too) or None."""
    z = draw(logit_arrays(dtype, bound, max_dims, max_side))
    axis = draw(st.one_of(st.none(), st.integers(-z.ndim, z.ndim - 1)))
    return z, axis


@st.composite
def dominated_vectors(draw, dtype):
    """Vectors whose largest logit holds nearly all the mass: ``[0, -d_1, ..., -d_k]`` (shuffled)
    with ``d`` in [15, 700] (float64) or [8, 80] (float32). Here logsumexp is tiny, log_softmax of
    the top class is tiny, and ``1 - a_top`` is far below eps: exactly where ``log(1 + s)`` and
    ``a * (1 - a)`` lose all relative accuracy."""
    lo, hi = (15.0, 700.0) if dtype == np.float64 else (8.0, 80.0)
    gaps = draw(st.lists(bounded_range_floats(dtype, lo, hi), min_size=1, max_size=5))
    top = draw(st.integers(0, len(gaps)))
    values = [-g for g in gaps]
    values.insert(top, 0.0)
    return np.array(values, dtype=dtype)


def bounded_range_floats(dtype, lo: float, hi: float) -> st.SearchStrategy:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=np.finfo(dtype).bits)


# --------------------------------------------------------------------------------------------------
# mpmath references
# --------------------------------------------------------------------------------------------------


def _mp(x) -> mpmath.mpf:
    return mpmath.mpf(float(x))  # float32/float64 values convert exactly


def mp_stats(vector) -> dict:
    """High-precision statistics of one real vector (the slice softmax is taken over).

    Returns mpf lists/values: ``lse``, ``m`` (max), ``a`` (softmax), ``logp`` (log-softmax),
    ``cond`` = sum_j a_j |z_j - m| (the error that rounding ``z_j - m`` propagates into the sum)
    and ``log1p_rest`` = lse - m.
    """
    with mpmath.workdps(MP_DPS):
        z = [_mp(x) for x in np.asarray(vector).ravel()]
        k = max(range(len(z)), key=lambda i: z[i])
        m = z[k]
        # log1p of the non-maximal terms, as in the algorithm under test, so that the reference
        # keeps its relative accuracy when the rest is below 10**-MP_DPS (e.g. exp(-700)).
        log1p_rest = mpmath.log1p(mpmath.fsum(mpmath.exp(x - m) for i, x in enumerate(z) if i != k))
        lse = m + log1p_rest
        logp = [(x - m) - log1p_rest for x in z]
        a = [mpmath.exp(li) for li in logp]
        cond = mpmath.fsum(ai * abs(x - m) for ai, x in zip(a, z))
        return {"z": z, "m": m, "lse": lse, "a": a, "logp": logp, "cond": cond,
                "log1p_rest": log1p_rest, "n": len(z)}


def error_units(ours, ref, scale, dtype) -> float:
    """``|ours - ref| / (eps * scale + 4 * smallest_subnormal)`` computed in mpmath.

    The subnormal term only matters for results that underflow: there the spacing of the format,
    not eps times the value, is the best possible absolute accuracy.
    """
    info = np.finfo(dtype)
    with mpmath.workdps(MP_DPS):
        if not np.isfinite(float(ours)):
            return float("inf")
        err = abs(_mp(ours) - ref)
        denominator = _mp(info.eps) * scale + 4 * _mp(info.smallest_subnormal)
        return float(err / denominator)


def softmax_error_units(ours_vec, stats, dtype) -> float:
    """Worst entry of softmax ``ours_vec`` against the reference, in units of eps * scale_i with

    ``scale_i = a_i (|z_i - m| + cond + n + 4)``:
    the rounding of ``z_i - m`` (relative u |z_i - m| after exp), of each ``z_j - m`` in the sum
    (cond), n - 1 additions, exp and the division each a few u. A stable algorithm stays below 1.
    """
    worst = 0.0
    with mpmath.workdps(MP_DPS):
        for ours, ai, zi in zip(np.asarray(ours_vec).ravel(), stats["a"], stats["z"]):
            scale = ai * (abs(zi - stats["m"]) + stats["cond"] + stats["n"] + 4)
            worst = max(worst, error_units(ours, ai, scale, dtype))
    return worst


def log_softmax_error_units(ours_vec, stats, dtype) -> float:
    """Worst entry of log_softmax against the reference, scale_i = (n + 4)|log a_i| + cond.

    ``log a_i = (z_i - m) - log1p(s)`` adds two non-positive terms (no cancellation); the rounding
    of ``z_i - m`` is at most u |log a_i|, the error of log1p(s) is at most
    u (cond + (n + 2) log1p(s)) and log1p(s) <= |log a_i|.
    """
    worst = 0.0
    with mpmath.workdps(MP_DPS):
        for ours, li in zip(np.asarray(ours_vec).ravel(), stats["logp"]):
            scale = (stats["n"] + 4) * abs(li) + stats["cond"]
            worst = max(worst, error_units(ours, li, scale, dtype))
    return worst


def logsumexp_error_units(ours, stats, dtype) -> float:
    """logsumexp against the reference, scale = |lse| + (n + 4)(lse - m) + cond.

    ``lse = m + log1p(s)``: the final addition is good to u |lse|; log1p(s) = lse - m carries
    relative error (n + 2)u plus the propagated ``cond``. When m < 0 the addition can cancel, which
    is why the scale has (lse - m) and not only |lse|.
    """
    with mpmath.workdps(MP_DPS):
        scale = abs(stats["lse"]) + (stats["n"] + 4) * stats["log1p_rest"] + stats["cond"]
        return error_units(ours, stats["lse"], scale, dtype)


def relative_error_ulps(ours, exact, dtype) -> float:
    """``|ours - exact| / ulp(exact)`` in the format of ``dtype``, with ulp(x) = 2^(e-p+1) for
    2^e <= |x| < 2^(e+1) (the spacing of floats at |x|, exact in mpmath)."""
    info = np.finfo(dtype)
    with mpmath.workdps(MP_DPS):
        exact = mpmath.mpf(exact)
        if exact == 0:
            return 0.0 if float(ours) == 0 else float("inf")
        exponent = int(mpmath.floor(mpmath.log(abs(exact), 2)))
        ulp = mpmath.ldexp(1, max(exponent, info.minexp) - info.nmant)
        return float(abs(_mp(ours) - exact) / ulp)


def slices(array: np.ndarray, axis):
    """Yield (index, 1-D slice) pairs along ``axis`` (``None``: the whole array as one slice)."""
    if axis is None:
        yield (Ellipsis,), array.ravel()
        return
    moved = np.moveaxis(array, axis, -1)
    for index in np.ndindex(moved.shape[:-1]):
        yield index, moved[index]
