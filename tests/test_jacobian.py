"""softmax_jacobian and softmax_vjp: the formula, entrywise accuracy (mpmath), structure
(symmetric, rows summing to 0, positive semi-definite), agreement with finite differences, shapes
and dtypes."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import (
    FLOAT_DTYPES,
    MP_DPS,
    bounded_floats,
    dominated_vectors,
    mp_stats,
    relative_error_ulps,
    vectors,
)
from softmaxnotes import (
    max_relative_error,
    numerical_gradient,
    numerical_jacobian,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)


def mp_jacobian(z):
    """Exact J_ij = a_i (delta_ij - a_j) as mpf; the diagonal as a_i * sum_{j != i} a_j."""
    stats = mp_stats(z)
    a, n = stats["a"], stats["n"]
    with mpmath.workdps(MP_DPS):
        return [[a[i] * mpmath.fsum(a[k] for k in range(n) if k != i) if i == j else -a[i] * a[j]
                 for j in range(n)] for i in range(n)], stats


def worst_entry_ulps(jac, exact, dtype):
    return max(relative_error_ulps(jac[i, j], exact[i][j], dtype)
               for i in range(jac.shape[0]) for j in range(jac.shape[1]))


# --------------------------------------------------------------------------------------------------
# Accuracy when one class holds nearly all the mass
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize(
    "z", [[30.0, 0.0, -5.0], [0.0, -30.0], [-30.0, 0.0], [0.0, -40.0], [-5.0, 30.0, 0.0, 2.0],
          [1.0, 2.0, 3.0], [0.5, 0.25], [100.0, 0.0, 50.0, -20.0], [20.0, 20.0, -20.0]],
)
def test_every_entry_within_4_ulps_of_mpmath(z, dtype):
    """J_ii = a_i (1 - a_i) with a_i ~ 1 - 1e-13: computing 1 - a_i by subtraction would leave a
    relative error ~1e-3 (float64) or give 0 (float32); every entry must be within 4 ulps."""
    z = np.array(z, dtype=dtype)
    jac = softmax_jacobian(z)
    assert jac.dtype == dtype and jac.shape == (z.size, z.size)
    exact, _ = mp_jacobian(z)
    assert worst_entry_ulps(jac, exact, dtype) <= 4


def test_dominant_diagonal_is_not_zero_in_float32():
    jac = softmax_jacobian(np.float32([30.0, 0.0, -5.0]))
    assert softmax(np.float32([30.0, 0.0, -5.0]))[0] == 1.0  # a_0 rounds to 1 ...
    assert jac[0, 0] > 0  # ... yet a_0 (1 - a_0) ~ 9.4e-14 is kept
    assert relative_error_ulps(jac[0, 0], mpmath.exp(-30) + mpmath.exp(-35), np.float32) <= 4


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_dominated_integer_logits_few_ulps(dtype, data):
    """Integer logits, one dominating (z_j - m exact): every entry within k = 2n + 2 ulps (a_i and
    a_j each within n + 1 ulps: n - 1 additions, exp, division; plus the product)."""
    lo, hi = (15, 700) if dtype == np.float64 else (8, 80)
    gaps = data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=5))
    top = data.draw(st.integers(0, len(gaps)))
    values = [-float(g) for g in gaps]
    values.insert(top, 0.0)
    z = np.array(values, dtype=dtype)
    exact, _ = mp_jacobian(z)
    jac = softmax_jacobian(z)
    n = z.size
    tiny = float(np.finfo(dtype).tiny)
    for i in range(n):
        for j in range(n):
            if abs(exact[i][j]) >= tiny:
                assert relative_error_ulps(jac[i, j], exact[i][j], dtype) <= 2 * n + 2
            else:  # below the normal range: a few subnormal spacings
                assert abs(float(jac[i, j]) - float(exact[i][j])) <= 4 * float(
                    np.finfo(dtype).smallest_subnormal)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_dominated_any_logits_relative_accuracy(dtype, data):
    """Any logits with one dominating: each entry relative to its own size, within
    eps (2R + 2 cond + 3n + 12) where R = max|z_j - m| and cond = sum_j a_j |z_j - m| (the
    propagated rounding of z_j - m, see conftest) -- never the 1e-3 of a subtraction."""
    z = data.draw(dominated_vectors(dtype))
    exact, stats = mp_jacobian(z)
    jac = softmax_jacobian(z)
    n = z.size
    eps = float(np.finfo(dtype).eps)
    sub = float(np.finfo(dtype).smallest_subnormal)
    with mpmath.workdps(MP_DPS):
        big_r = max(abs(x - stats["m"]) for x in stats["z"])
        rel = eps * (2 * big_r + 2 * stats["cond"] + 3 * n + 12)
        for i in range(n):
            for j in range(n):
                err = abs(mpmath.mpf(float(jac[i, j])) - exact[i][j])
                assert err <= rel * abs(exact[i][j]) + 4 * sub


# --------------------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------------------


def test_formula_small_case():
    z = np.array([1.0, 2.0, 0.5])
    a = softmax(z)
    expected = np.diag(a) - np.outer(a, a)
    np.testing.assert_allclose(softmax_jacobian(z), expected, rtol=1e-15, atol=1e-17)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_symmetric_rows_sum_to_zero_psd(dtype, data):
    """J = diag(a) - a a^T: exactly symmetric (a_i a_j == a_j a_i in IEEE arithmetic); each row sums
    to 0 within 2 n eps times the sum of the row's magnitudes; eigenvalues >= -10 n eps ||J||_F."""
    z = data.draw(vectors(dtype, bound=None, min_size=1, max_size=7))
    jac = softmax_jacobian(z)
    n = z.size
    eps = float(np.finfo(dtype).eps)
    sub = float(np.finfo(dtype).smallest_subnormal)
    np.testing.assert_array_equal(jac, jac.T)
    assert np.all(np.isfinite(jac))
    j64 = jac.astype(np.float64)
    row_sums = np.abs(j64.sum(axis=1))
    assert np.all(row_sums <= 2 * n * eps * np.abs(j64).sum(axis=1) + 4 * n * sub)
    assert np.all(np.diag(j64) >= 0)
    assert np.all(j64[~np.eye(n, dtype=bool)] <= 0)
    eigenvalues = np.linalg.eigvalsh(j64)
    assert eigenvalues.min() >= -10 * n * eps * np.linalg.norm(j64) - 4 * n * sub
    assert eigenvalues.max() <= 1.0 + 10 * n * eps  # the largest eigenvalue is at most max a_i


@given(z=vectors(np.float64, bound=30.0, min_size=1, max_size=6))
def test_agrees_with_numerical_jacobian(z):
    """Central differences with step ~6e-6 max(1, |z_j|): truncation ~h^2 |a'''| <= 4e-8 and
    round-off ~eps/h ~ 4e-11, so |J - J_num| <= 1e-6 |J| + 1e-7 entrywise, and where |J| > 1e-3
    the CS231n relative error is below 1e-5."""
    jac = softmax_jacobian(z)
    num = numerical_jacobian(softmax, z)
    assert num.shape == jac.shape
    assert np.all(np.abs(jac - num) <= 1e-6 * np.abs(jac) + 1e-7)
    big = np.abs(jac) > 1e-3
    if big.any():
        assert max_relative_error(jac[big], num[big]) < 1e-5


def test_agrees_with_numerical_jacobian_gently():
    z = np.array([0.3, -1.2, 2.0, 0.0])
    assert max_relative_error(softmax_jacobian(z), numerical_jacobian(softmax, z)) < 1e-8


@pytest.mark.parametrize("shape", [(3,), (2, 3), (4, 1, 5), (2, 0, 3), (0, 2), (0,), (1,)])
def test_batch_shape(shape):
    rng = np.random.default_rng(2)
    z = rng.normal(scale=3, size=shape)
    jac = softmax_jacobian(z)
    assert jac.shape == shape + (shape[-1],)
    for index in np.ndindex(shape[:-1]):
        np.testing.assert_array_equal(jac[index], softmax_jacobian(z[index]))


def test_single_class_jacobian_is_zero():
    np.testing.assert_array_equal(softmax_jacobian([5.0]), [[0.0]])


def test_minus_inf_class_has_zero_row_and_column():
    z = np.array([0.0, -np.inf, 1.0])
    jac = softmax_jacobian(z)
    np.testing.assert_array_equal(jac[1], 0.0)
    np.testing.assert_array_equal(jac[:, 1], 0.0)
    np.testing.assert_array_equal(jac[np.ix_([0, 2], [0, 2])], softmax_jacobian(z[[0, 2]]))


@pytest.mark.parametrize(
    "value,dtype",
    [(np.float32([1, 2]), np.float32), (np.float64([1, 2]), np.float64),
     (np.float16([1, 2]), np.float16), (np.int32([1, 2]), np.float64), ([1, 2], np.float64),
     (np.array([True, False]), np.float64)],
)
def test_dtype_rules(value, dtype):
    assert softmax_jacobian(value).dtype == dtype
    assert softmax_vjp(value, [1.0, -1.0]).dtype == dtype


def test_huge_logits_no_overflow():
    for z in ([1e308, -1e308, 0.0], np.float32([3e38, -3e38, 1.0]), [1e4, 0.0]):
        jac = softmax_jacobian(z)
        assert np.all(np.isfinite(jac))
        np.testing.assert_array_equal(jac, 0.0)  # a = e_0 exactly, so J = 0 (up to -0.0)


# --------------------------------------------------------------------------------------------------
# Vector-Jacobian product
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_vjp_equals_jacobian_transpose_times_v(dtype, data):
    """a (v - (a.v) 1) against J^T v: both have error at most a few (n + 2) eps times
    a_i (|v_i| + sum_j a_j |v_j|), which bounds sum_j |J_ji| |v_j|; entries of J that fall in the
    subnormal range carry an absolute error of up to one subnormal spacing each, multiplied by
    |v_j| in J^T v."""
    z = data.draw(vectors(dtype, bound=50.0, min_size=1, max_size=6))
    v = data.draw(hnp.arrays(dtype, z.shape, elements=bounded_floats(dtype, 1e3)))
    ours = softmax_vjp(z, v).astype(np.float64)
    reference = softmax_jacobian(z).astype(np.float64).T @ v.astype(np.float64)
    a = softmax(z).astype(np.float64)
    av = np.abs(v.astype(np.float64))
    n = z.size
    eps = float(np.finfo(dtype).eps)
    sub = float(np.finfo(dtype).smallest_subnormal)
    tol = 4 * (n + 2) * eps * a * (av + np.dot(a, av)) + sub * (8 + 2 * av.sum())
    assert np.all(np.abs(ours - reference) <= tol)


@given(z=vectors(np.float64, bound=20.0, min_size=1, max_size=6), data=st.data())
def test_vjp_agrees_with_numerical_gradient(z, data):
    """J^T v is the gradient of v . softmax(z)."""
    v = data.draw(hnp.arrays(np.float64, z.shape, elements=bounded_floats(np.float64, 10.0)))
    numeric = numerical_gradient(lambda x: float(np.dot(v, softmax(x))), z)
    ours = softmax_vjp(z, v)
    assert np.all(np.abs(ours - numeric) <= 1e-6 * np.abs(ours) + 1e-7 * (1 + np.abs(v).max()))


def test_vjp_batch_and_broadcast():
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    v = rng.normal(size=(4, 3))
    out = softmax_vjp(z, v)
    assert out.shape == (4, 3)
    for b in range(4):
        np.testing.assert_allclose(out[b], softmax_jacobian(z[b]).T @ v[b], rtol=1e-13, atol=1e-16)
    shared = rng.normal(size=3)
    np.testing.assert_array_equal(softmax_vjp(z, shared), softmax_vjp(z, np.tile(shared, (4, 1))))


def test_vjp_of_ones_is_zero():
    """Softmax sums to 1, so the gradient of sum(a) is 0: a (1 - (a.1)) -- exactly 0 here."""
    z = np.array([3.0, -1.0, 0.5])
    assert np.all(np.abs(softmax_vjp(z, np.ones(3))) <= 4 * np.finfo(float).eps)


def test_vjp_v_float64_keeps_z_dtype():
    assert softmax_vjp(np.float32([1, 2, 3]), np.float64([1, 0, 0])).dtype == np.float32
