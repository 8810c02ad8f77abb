"""softmax, log_softmax and logsumexp: values, accuracy, stability, edge cases, dtypes, axes.

Accuracy is measured against an mpmath reference (see conftest.py). The bound ``units <= 1`` used
throughout means ``|ours - exact| <= eps * scale`` with the scale derived in conftest for a
shift-by-the-max algorithm with ``log1p`` (Blanchard, Higham & Higham 2021); ``eps`` is the machine
epsilon of the dtype, so one unit is one to two ulps of the scale. Measured on random inputs the
package stays below 0.5 units. Where rounding of ``z_j - m`` cannot happen (integer logits) the
tests ask for plain ulps of the exact value instead.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import (
    FLOAT_DTYPES,
    MP_DPS,
    any_finite_floats,
    arrays_and_axis,
    dominated_vectors,
    log_softmax_error_units,
    logsumexp_error_units,
    mp_stats,
    relative_error_ulps,
    slices,
    softmax_error_units,
)
from softmaxnotes import log_softmax, logsumexp, softmax

FUNCTIONS = [softmax, log_softmax, logsumexp]
ELEMENTWISE = [softmax, log_softmax]  # same shape out as in


def reduce_shape(shape, axis, keepdims=False):
    if axis is None:
        return (1,) * len(shape) if keepdims else ()
    axis = axis % len(shape)
    if keepdims:
        return tuple(1 if i == axis else s for i, s in enumerate(shape))
    return tuple(s for i, s in enumerate(shape) if i != axis)


# --------------------------------------------------------------------------------------------------
# Known values
# --------------------------------------------------------------------------------------------------


def test_softmax_known_values():
    np.testing.assert_array_equal(softmax([0.0, 0.0]), [0.5, 0.5])
    np.testing.assert_array_equal(softmax([7.0]), [1.0])
    eps = np.finfo(float).eps
    np.testing.assert_allclose(softmax([np.log(3.0), 0.0]), [0.75, 0.25], rtol=2 * eps)
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(softmax([1, 2, 3]), e / e.sum(), rtol=4e-16, atol=0)


def test_logsumexp_known_values():
    assert logsumexp([0.0, 0.0]) == np.log(2.0)
    assert logsumexp([5.0]) == 5.0
    assert logsumexp([1e4, 1e4]) == 1e4 + np.log(2.0)
    np.testing.assert_array_equal(log_softmax([0.0, 0.0]), [-np.log(2.0)] * 2)


def test_logsumexp_0_minus_40_is_log1p_exp_minus_40():
    """The headline case: log(1 + e^-40) is 4.2e-18, far below eps; log(sum) would give 0."""
    expected = np.log1p(np.exp(-40.0))
    assert expected > 0
    result = logsumexp([0.0, -40.0])
    assert result == expected
    assert relative_error_ulps(result, mpmath.log1p(mpmath.exp(-40)), np.float64) <= 1
    # and its companion: log a_0 = -log1p(e^-40), not 0
    assert log_softmax([0.0, -40.0])[0] == -expected
    assert logsumexp([-40.0, 0.0]) == expected  # position of the max does not matter


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("gap", [20, 40, 100, 700])
def test_logsumexp_tiny_correction_full_precision(dtype, gap):
    z = np.array([0, -gap, -gap - 1], dtype=dtype)
    with mpmath.workdps(MP_DPS):
        exact = mpmath.log1p(mpmath.exp(-gap) + mpmath.exp(-gap - 1))
    if float(exact) < np.finfo(dtype).smallest_subnormal / 2:
        exact = mpmath.mpf(0)
    assert relative_error_ulps(logsumexp(z), exact, dtype) <= 2
    assert relative_error_ulps(-log_softmax(z)[0], exact, dtype) <= 2


# --------------------------------------------------------------------------------------------------
# Accuracy against mpmath, any shape, any axis, float32 and float64
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_accuracy_against_mpmath_any_axis(dtype, data):
    """All three functions, every slice, every entry within 1 unit (= eps * derived scale)."""
    z, axis = data.draw(arrays_and_axis(dtype, bound=1e3, max_dims=3, max_side=4))
    a = softmax(z, axis=axis)
    log_a = log_softmax(z, axis=axis)
    lse = logsumexp(z, axis=axis, keepdims=True)
    assert a.dtype == log_a.dtype == lse.dtype == dtype
    assert a.shape == log_a.shape == z.shape
    lse_flat = lse.ravel() if axis is None else np.moveaxis(lse, axis, -1)
    a_sl = dict(slices(a, axis))
    log_sl = dict(slices(log_a, axis))
    for index, zs in slices(z, axis):
        stats = mp_stats(zs)
        assert softmax_error_units(a_sl[index], stats, dtype) <= 1
        assert log_softmax_error_units(log_sl[index], stats, dtype) <= 1
        value = lse_flat[0] if axis is None else lse_flat[index][0]
        assert logsumexp_error_units(value, stats, dtype) <= 1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_accuracy_when_one_logit_dominates(dtype, data):
    """logsumexp ~ e^-15 or smaller and log a_top = -log1p(s) tiny: needs log1p, k = 1 unit."""
    z = data.draw(dominated_vectors(dtype))
    stats = mp_stats(z)
    assert logsumexp_error_units(logsumexp(z), stats, dtype) <= 1
    assert log_softmax_error_units(log_softmax(z), stats, dtype) <= 1
    assert softmax_error_units(softmax(z), stats, dtype) <= 1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_integer_logits_few_ulps(dtype, data):
    """Integer logits: z_j - m is exact, so every result must be within k = n + 2 ulps of the exact
    value (plain ulps of the result, no condition-number allowance; n - 1 additions, one exp and
    one log1p or division, each at most one ulp), also when one class dominates."""
    n = data.draw(st.integers(1, 6))
    hi = 700 if dtype == np.float64 else 80
    z = np.array(data.draw(st.lists(st.integers(-hi, hi), min_size=n, max_size=n)), dtype=dtype)
    stats = mp_stats(z)
    k = n + 2
    assert relative_error_ulps(logsumexp(z), stats["lse"], dtype) <= k
    for ours, exact in zip(log_softmax(z), stats["logp"]):
        assert relative_error_ulps(ours, exact, dtype) <= k
    tiny = mpmath.mpf(float(np.finfo(dtype).smallest_subnormal))
    for ours, exact in zip(softmax(z), stats["a"]):
        if exact >= float(np.finfo(dtype).tiny):
            assert relative_error_ulps(ours, exact, dtype) <= k
        else:  # subnormal or underflowed result: a few subnormal spacings
            assert abs(mpmath.mpf(float(ours)) - exact) <= 4 * tiny


# --------------------------------------------------------------------------------------------------
# Agreement with scipy.special
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_agrees_with_scipy(dtype, data):
    """softmax: same algorithm as scipy, so within 2 ulp(max(|scipy|, tiny)) entrywise.
    logsumexp: both use log1p, so within 2 units (each is within 1 of the exact value).
    log_softmax: scipy computes log(s) instead of log1p(s - 1), whose absolute error is about
    (n + 1) eps even when the result is tiny, so agreement is 2 units + (n + 1) eps absolute;
    our own accuracy is checked against mpmath above."""
    z, axis = data.draw(arrays_and_axis(dtype, bound=1e3, max_dims=3, max_side=4))
    info = np.finfo(dtype)
    eps = float(info.eps)
    ours, ref = softmax(z, axis=axis), sps.softmax(z, axis=axis)
    assert ours.dtype == ref.dtype
    assert np.all(np.abs(ours - ref) <= 2 * np.spacing(np.maximum(np.abs(ref), info.tiny)))

    lse_ours = logsumexp(z, axis=axis, keepdims=True)
    lse_ref = sps.logsumexp(z, axis=axis, keepdims=True)
    assert lse_ours.shape == np.shape(lse_ref)
    lso, lsr = log_softmax(z, axis=axis), sps.log_softmax(z, axis=axis)
    lse_o = lse_ours.ravel() if axis is None else np.moveaxis(lse_ours, axis, -1)
    lse_r = np.ravel(lse_ref) if axis is None else np.moveaxis(lse_ref, axis, -1)
    lso_sl, lsr_sl = dict(slices(lso, axis)), dict(slices(lsr, axis))
    for index, zs in slices(z, axis):
        stats = mp_stats(zs)
        key = 0 if axis is None else index
        o = lse_o[key] if axis is None else lse_o[key][0]
        r = lse_r[key] if axis is None else lse_r[key][0]
        with mpmath.workdps(MP_DPS):
            scale = abs(stats["lse"]) + (stats["n"] + 4) * stats["log1p_rest"] + stats["cond"]
            assert abs(mpmath.mpf(float(o)) - mpmath.mpf(float(r))) <= 2 * eps * scale
            for oi, ri, li in zip(lso_sl[index], lsr_sl[index], stats["logp"]):
                scale_i = (stats["n"] + 4) * abs(li) + stats["cond"]
                allowed = 2 * eps * scale_i + (stats["n"] + 1) * eps
                assert abs(mpmath.mpf(float(oi)) - mpmath.mpf(float(ri))) <= allowed


def test_log_softmax_more_accurate_than_log_of_sum():
    """The top class of [0, -40]: scipy's log(s) rounds 1 + 4e-18 to 1 and returns 0."""
    exact = -mpmath.log1p(mpmath.exp(-40))
    assert relative_error_ulps(log_softmax([0.0, -40.0])[0], exact, np.float64) <= 1


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@given(data=st.data())
def test_stable_on_any_finite_input(dtype, data):
    """Any finite logits (up to +-max of the dtype): no nan, no overflow, no RuntimeWarning (made
    an error by pyproject and again here), and no floating-point exception escapes even when numpy
    is set to raise on every one."""
    z, axis = data.draw(arrays_and_axis(dtype, bound=None, max_dims=2, max_side=5))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        a = softmax(z, axis=axis)
        log_a = log_softmax(z, axis=axis)
        lse = logsumexp(z, axis=axis)
    assert a.dtype == log_a.dtype == lse.dtype == dtype
    assert not np.isnan(a).any() and not np.isnan(log_a).any() and not np.isnan(lse).any()
    assert np.all((a >= 0) & (a <= 1))
    assert np.all(log_a <= 0)
    assert np.all(np.isfinite(lse))
    zmax = np.max(z, axis=axis)
    assert np.all(lse >= zmax)
    # the largest entry of each slice has log a >= -log(n), in particular finite
    n = z.size if axis is None else z.shape[axis]
    eps = float(np.finfo(dtype).eps)
    assert np.all(np.max(log_a, axis=axis) >= -np.log(n) - 4 * eps * max(1.0, np.log(n)))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@given(data=st.data())
def test_probabilities_in_unit_interval_and_sum_to_one(dtype, data):
    """Each slice sums to 1 within 2 n eps (n - 1 additions in softmax, n - 1 in the check, each
    entry carrying a division); float16 is computed in float32 and rounded once, so its sum is
    within n * eps16 / 2 of the float32 sum."""
    z, axis = data.draw(arrays_and_axis(dtype, bound=None, max_dims=3, max_side=5))
    a = softmax(z, axis=axis)
    assert np.all((a >= 0) & (a <= 1))
    n = z.size if axis is None else z.shape[axis]
    sums = np.sum(a.astype(np.float64), axis=axis)
    eps = np.finfo(dtype).eps
    if dtype == np.float16:
        tolerance = n * eps / 2 + 2 * n * np.finfo(np.float32).eps
    else:
        tolerance = 2 * n * eps
    assert np.all(np.abs(sums - 1) <= tolerance)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_exact_shift_invariance(dtype, data):
    """Logits on the grid 2^-8 Z (|z| <= 1000) shifted by an integer |c| <= 1000: z + c is exact,
    so the shifted max and z - m are identical and softmax and log_softmax are bitwise unchanged;
    logsumexp moves by c up to the two final roundings (2 ulps of the larger result)."""
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5))
    ints = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-256_000, 256_000)))
    z = (ints / 256).astype(dtype)
    c = data.draw(st.integers(-1000, 1000))
    axis = data.draw(st.one_of(st.none(), st.integers(-z.ndim, z.ndim - 1)))
    shifted = z + dtype(c)
    np.testing.assert_array_equal(shifted - dtype(c), z)  # the shift really is exact
    np.testing.assert_array_equal(softmax(shifted, axis=axis), softmax(z, axis=axis))
    np.testing.assert_array_equal(log_softmax(shifted, axis=axis), log_softmax(z, axis=axis))
    l0 = logsumexp(z, axis=axis).astype(np.float64)
    l1 = logsumexp(shifted, axis=axis).astype(np.float64)
    ulp = np.spacing(np.maximum(np.abs(l0), np.abs(l1)).astype(dtype)).astype(np.float64)
    assert np.all(np.abs((l1 - c) - l0) <= 2 * ulp + np.spacing(dtype(abs(c))))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_shift_invariance_any_shift(dtype, data):
    """Any float shift c: z + c rounds, moving each z_i - m by at most eps (max|z| + |c|); with each
    computation's own error (conftest) the entries agree within
    a_i eps (10 max|z| + 4 |c| + 2 n + 8) + 8 subnormal spacings."""
    z = data.draw(hnp.arrays(dtype, st.integers(1, 6), elements=st.floats(
        -1e3, 1e3, width=np.finfo(dtype).bits)))
    c = data.draw(st.floats(-1e3, 1e3, width=np.finfo(dtype).bits))
    info = np.finfo(dtype)
    a0 = softmax(z).astype(np.float64)
    a1 = softmax(z + dtype(c)).astype(np.float64)
    zmax = float(np.max(np.abs(z)))
    tol = a0 * info.eps * (10 * zmax + 4 * abs(c) + 2 * z.size + 8) + 8 * info.smallest_subnormal
    assert np.all(np.abs(a1 - a0) <= tol)


# --------------------------------------------------------------------------------------------------
# Extreme logits
# --------------------------------------------------------------------------------------------------

F64_MAX = float(np.finfo(np.float64).max)
F32_MAX = float(np.finfo(np.float32).max)

EXTREMES = [
    [1e4, 0.0],
    [1e4, 1e4 - 1, -1e4],
    [-1e4, -1e4 - 1],
    [1e30, 1e30, -1e30],
    [1e30, 1e-30, -1e30, 0.0],
    [1e38, 3e38, -3e38],
    [1e308, 0.0],
    [1e308, -1e308],
    [-1e308, -1e308],
    [1e308, 1e308, 1.0, -1e-300],
    [F64_MAX, F64_MAX],
    [F64_MAX, -F64_MAX, 0.0],
    [-F64_MAX, 0.0],
    [F32_MAX, F32_MAX, -F32_MAX],
    [F32_MAX, 0.0],
    [700.0, 800.0, -800.0],
    [-750.0, -760.0],  # every exp(z) underflows in float64
    [89.0, 90.0],  # exp overflows float32
    [-110.0, -105.0],  # every exp underflows float32
    [5e-324, 0.0, -5e-324],
]


EXTREME_CASES = [
    pytest.param(values, dtype, id=f"{dtype.__name__}:" + ",".join(f"{x:.3g}" for x in values))
    for dtype in FLOAT_DTYPES
    for values in EXTREMES
    if np.all(np.abs(values) <= np.finfo(dtype).max)  # 1e308 is not a float32
]


@pytest.mark.parametrize("values,dtype", EXTREME_CASES)
def test_extreme_logits(values, dtype):
    info = np.finfo(dtype)
    z = np.array(values, dtype=dtype)
    assert np.all(np.isfinite(z))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        a, log_a, lse = softmax(z), log_softmax(z), logsumexp(z)
    assert not np.isnan(a).any() and not np.isnan(log_a).any() and not np.isnan(lse)
    assert np.isfinite(lse)
    stats = mp_stats(z)
    assert softmax_error_units(a, stats, dtype) <= 1
    assert logsumexp_error_units(lse, stats, dtype) <= 1
    for ours, exact in zip(log_a, stats["logp"]):
        if exact < -info.max:  # the true value is below -max: -inf is its correct rounding
            assert ours == -np.inf
        else:
            assert log_softmax_error_units([ours], {**stats, "logp": [exact]}, dtype) <= 1
    assert abs(np.sum(a, dtype=np.float64) - 1) <= 2 * len(z) * info.eps


def test_huge_logits_do_not_overflow():
    assert logsumexp([1e308, 1e308]) == 1e308  # + log 2 is far below ulp(1e308)
    np.testing.assert_array_equal(softmax([1e308, 1e308]), [0.5, 0.5])
    np.testing.assert_array_equal(softmax([1e4, 0.0]), [1.0, 0.0])
    np.testing.assert_array_equal(log_softmax([1e4, 0.0]), [0.0, -1e4])
    assert logsumexp(np.float32([1e30, 1e30])) == np.float32(1e30)
    np.testing.assert_array_equal(softmax(np.float32([3e38, 3e38])), np.float32([0.5, 0.5]))


# --------------------------------------------------------------------------------------------------
# Non-finite entries (scipy semantics, with the documented +inf difference)
# --------------------------------------------------------------------------------------------------


def test_minus_inf_gets_probability_zero():
    z = np.array([0.0, -np.inf, np.log(3.0)])
    a = softmax(z)
    assert a[1] == 0.0
    np.testing.assert_array_equal(a[[0, 2]], softmax(z[[0, 2]]))
    log_a = log_softmax(z)
    assert log_a[1] == -np.inf
    np.testing.assert_array_equal(log_a[[0, 2]], log_softmax(z[[0, 2]]))
    assert logsumexp(z) == logsumexp(z[[0, 2]])
    np.testing.assert_array_equal(softmax([-np.inf, 5.0]), [0.0, 1.0])


@pytest.mark.parametrize("axis", [0, 1, None])
def test_all_minus_inf_slice(axis):
    z = np.array([[-np.inf, -np.inf], [-np.inf, -np.inf]])
    assert np.all(np.isnan(softmax(z, axis=axis)))
    assert np.all(np.isnan(log_softmax(z, axis=axis)))
    assert np.all(logsumexp(z, axis=axis) == -np.inf)
    with np.errstate(all="ignore"):
        theirs = sps.logsumexp(z, axis=axis)
    np.testing.assert_array_equal(logsumexp(z, axis=axis), theirs)


@pytest.mark.parametrize("axis", [0, 1])
def test_all_minus_inf_slice_next_to_finite_ones(axis):
    z = np.array([[-np.inf, -np.inf], [0.0, 1.0]])
    if axis == 0:
        z = z.T
    a, log_a = softmax(z, axis=axis), log_softmax(z, axis=axis)
    lse = logsumexp(z, axis=axis)
    bad = (0, slice(None)) if axis == 1 else (slice(None), 0)
    good = (1, slice(None)) if axis == 1 else (slice(None), 1)
    assert np.isnan(a[bad]).all() and np.isnan(log_a[bad]).all() and lse[0] == -np.inf
    np.testing.assert_array_equal(a[good], softmax([0.0, 1.0]))
    np.testing.assert_array_equal(log_a[good], log_softmax([0.0, 1.0]))
    assert lse[1] == logsumexp([0.0, 1.0])


def test_plus_inf_entry():
    z = np.array([1.0, np.inf, -np.inf, 3.0])
    a = softmax(z)
    assert np.isnan(a[1])
    np.testing.assert_array_equal(a[[0, 2, 3]], [0.0, 0.0, 0.0])
    log_a = log_softmax(z)
    assert np.isnan(log_a[1])
    np.testing.assert_array_equal(log_a[[0, 2, 3]], [-np.inf, -np.inf, -np.inf])
    assert logsumexp(z) == np.inf
    with np.errstate(all="ignore"):
        assert sps.logsumexp(z) == np.inf
    # two +inf entries: both nan
    a2 = softmax([np.inf, 0.0, np.inf])
    assert np.isnan(a2[0]) and np.isnan(a2[2]) and a2[1] == 0.0


@pytest.mark.parametrize("axis", [0, 1, -1, -2])
def test_non_finite_only_affects_own_slice_2d(axis):
    z = np.arange(20.0).reshape(4, 5) / 3
    z[1, 2] = np.nan
    z[2, 0] = np.inf
    z[3, 4] = -np.inf
    a, log_a = softmax(z, axis=axis), log_softmax(z, axis=axis)
    lse = logsumexp(z, axis=axis, keepdims=True)
    ax = axis % 2
    for i in range(z.shape[1 - ax]):
        idx = (slice(None), i) if ax == 0 else (i, slice(None))
        zs = z[idx]
        if np.isnan(zs).any():
            assert np.isnan(a[idx]).all() and np.isnan(log_a[idx]).all()
            assert np.isnan(lse[idx]).all()
        elif np.isposinf(zs).any():
            assert np.array_equal(np.isnan(a[idx]), np.isposinf(zs))
            assert np.all(a[idx][~np.isposinf(zs)] == 0)
            assert np.all(log_a[idx][~np.isposinf(zs)] == -np.inf)
            assert np.all(lse[idx] == np.inf)
        else:  # untouched by the nan and inf in other slices
            assert not np.isnan(a[idx]).any() and not np.isnan(log_a[idx]).any()
            np.testing.assert_array_equal(a[idx], softmax(zs))
            np.testing.assert_array_equal(log_a[idx], log_softmax(zs))
            np.testing.assert_array_equal(lse[idx].ravel(), [logsumexp(zs)])


def test_nan_with_axis_none_poisons_everything():
    z = np.array([[0.0, np.nan], [1.0, 2.0]])
    assert np.isnan(softmax(z, axis=None)).all()
    assert np.isnan(log_softmax(z, axis=None)).all()
    assert np.isnan(logsumexp(z, axis=None))


def test_plus_inf_differs_from_scipy_softmax_as_documented():
    z = np.array([np.inf, 0.0])
    with np.errstate(invalid="ignore"):
        theirs = sps.softmax(z)
    assert np.isnan(theirs).all()
    ours = softmax(z)
    assert np.isnan(ours[0]) and ours[1] == 0.0


# --------------------------------------------------------------------------------------------------
# Empty arrays
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,axis", [((0,), 0), ((0,), -1), ((3, 0), 1), ((0, 4), 0), ((2, 0, 3), 1)]
)
def test_logsumexp_over_empty_axis_is_minus_inf(shape, axis):
    z = np.zeros(shape)
    out = logsumexp(z, axis=axis)
    assert out.shape == reduce_shape(shape, axis)
    assert np.all(out == -np.inf)
    assert logsumexp(z, axis=axis, keepdims=True).shape == reduce_shape(shape, axis, True)
    np.testing.assert_array_equal(out, sps.logsumexp(z, axis=axis))


@pytest.mark.parametrize("shape,axis", [((3, 0), 0), ((0, 4), 1), ((0, 2, 3), -1), ((2, 0, 3), 2)])
def test_empty_along_other_axes(shape, axis):
    z = np.zeros(shape, dtype=np.float32)
    for f in ELEMENTWISE:
        out = f(z, axis=axis)
        assert out.shape == shape and out.dtype == np.float32
    out = logsumexp(z, axis=axis)
    assert out.shape == reduce_shape(shape, axis) and out.dtype == np.float32
    assert logsumexp(z, axis=axis, keepdims=True).shape == reduce_shape(shape, axis, True)


def test_empty_with_axis_none():
    z = np.zeros((0, 3))
    assert logsumexp(z, axis=None) == -np.inf
    assert logsumexp(z, axis=None).shape == ()
    assert logsumexp(z, axis=None, keepdims=True).shape == (1, 1)
    assert softmax(z, axis=None).shape == (0, 3)
    assert log_softmax(z, axis=None).shape == (0, 3)


# --------------------------------------------------------------------------------------------------
# Axes, shapes, dtypes, inputs
# --------------------------------------------------------------------------------------------------


def test_axis_none_is_whole_array():
    z = np.arange(12.0).reshape(3, 4) / 5
    np.testing.assert_array_equal(softmax(z, axis=None), softmax(z.ravel()).reshape(3, 4))
    np.testing.assert_array_equal(log_softmax(z, axis=None), log_softmax(z.ravel()).reshape(3, 4))
    assert logsumexp(z, axis=None) == logsumexp(z.ravel())
    assert logsumexp(z, axis=None, keepdims=True).shape == (1, 1)
    assert np.sum(softmax(z, axis=None)) == pytest.approx(1, abs=1e-15)


def test_zero_dim_with_axis_none():
    assert softmax(3.0, axis=None) == 1.0
    assert log_softmax(3.0, axis=None) == 0.0
    assert logsumexp(3.0, axis=None) == 3.0


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3, np.int64(1), np.intp(-1)])
def test_every_axis_matches_moveaxis(axis):
    rng = np.random.default_rng(1)
    z = rng.normal(scale=5, size=(2, 3, 4))
    moved = np.moveaxis(z, int(axis), -1)
    for f in ELEMENTWISE:
        expected = np.moveaxis(f(moved), -1, int(axis))
        np.testing.assert_allclose(f(z, axis=axis), expected, rtol=8e-16, atol=0)
    np.testing.assert_allclose(logsumexp(z, axis=axis), logsumexp(moved), rtol=4e-16, atol=0)
    keep = logsumexp(z, axis=axis, keepdims=True)
    assert keep.shape == reduce_shape(z.shape, int(axis), True)
    np.testing.assert_allclose(softmax(z, axis=axis), np.exp(z - keep), rtol=1e-14)
    np.testing.assert_allclose(log_softmax(z, axis=axis), z - keep, rtol=1e-14, atol=1e-14)


def test_default_axis_is_last():
    z = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(softmax(z), softmax(z, axis=1))
    np.testing.assert_array_equal(log_softmax(z), log_softmax(z, axis=-1))
    np.testing.assert_array_equal(logsumexp(z), logsumexp(z, axis=1))
    assert logsumexp(z).shape == (2,)


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    "value,dtype",
    [
        (np.array([1.0, 2.0], dtype=np.float32), np.float32),
        (np.array([1.0, 2.0], dtype=np.float64), np.float64),
        (np.array([1.0, 2.0], dtype=np.float16), np.float16),
        (np.array([1, 2], dtype=np.int8), np.float64),
        (np.array([1, 2], dtype=np.int64), np.float64),
        (np.array([1, 2], dtype=np.uint32), np.float64),
        (np.array([True, False]), np.float64),
        ([1, 2], np.float64),
        ([1.0, 2.0], np.float64),
        ((1.5, 2), np.float64),
    ],
)
def test_dtype_rules(f, value, dtype):
    assert f(value).dtype == dtype
    if np.asarray(value).dtype.kind == "f" or not isinstance(value, np.ndarray):
        # floats and Python sequences: the same as scipy (scipy gives float16 for int8 via np.exp
        # and rejects bools; ours gives float64 for every integer and bool array)
        assert f(value).dtype == np.asarray(getattr(sps, f.__name__)(value)).dtype


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_float16_computed_in_float32_and_rounded_once(f):
    z16 = np.array([0.0, -3.5, 2.25, 11.0, -9.0], dtype=np.float16)
    np.testing.assert_array_equal(f(z16), f(z16.astype(np.float32)).astype(np.float16))
    assert logsumexp(z16) == logsumexp(z16.astype(np.float32)).astype(np.float16)


def test_float16_extremes():
    z = np.array([65504.0, -65504.0, 0.0], dtype=np.float16)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        np.testing.assert_array_equal(softmax(z), np.float16([1, 0, 0]))
        np.testing.assert_array_equal(log_softmax(z), np.float16([0, -np.inf, -65504]))
        assert logsumexp(z) == np.float16(65504)


def test_bool_and_int_inputs_are_converted():
    np.testing.assert_array_equal(softmax([True, False]), softmax([1.0, 0.0]))
    np.testing.assert_array_equal(log_softmax(np.arange(4)), log_softmax(np.arange(4.0)))
    assert logsumexp([[1, 2], [3, 4]], axis=0).dtype == np.float64


@pytest.mark.parametrize("f", FUNCTIONS, ids=lambda f: f.__name__)
def test_input_not_modified(f):
    z = np.array([[3.0, -1.0, np.inf], [np.nan, 0.0, 1.0]])
    copy = z.copy()
    f(z, axis=1)
    f(z, axis=None)
    np.testing.assert_array_equal(z, copy)


@pytest.mark.parametrize("f", ELEMENTWISE, ids=lambda f: f.__name__)
def test_output_is_new_array(f):
    z = np.zeros((0, 3))
    out = f(z)
    assert not np.shares_memory(out, z)
    z2 = np.array([1.0, 2.0])
    assert not np.shares_memory(f(z2), z2)


def test_logsumexp_is_log_of_softmax_normaliser():
    z = np.array([[0.5, -2.0, 3.0], [10.0, 10.0, 10.0]])
    expected = z - logsumexp(z, keepdims=True)
    np.testing.assert_allclose(log_softmax(z), expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(np.exp(log_softmax(z)), softmax(z), rtol=1e-15)


@given(z=hnp.arrays(np.float64, st.integers(1, 6), elements=any_finite_floats(np.float64)))
def test_logsumexp_bounds(z):
    """max z <= logsumexp(z) <= max z + log n, in floating point too (rounding is monotone)."""
    lse = logsumexp(z)
    assert np.max(z) <= lse <= np.max(z) + np.log(z.size) * (1 + 1e-15)
