"""Tests of sparsemax and its Jacobian (softmaxnotes.sparsemax, chapter 10)."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from conftest import arrays_and_axis, bounded_floats, logit_arrays, vectors
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import minimize

import softmaxnotes as sn
from softmaxnotes import sparsemax, sparsemax_jacobian

ERRORS = (TypeError, ValueError)


def brute_force_projection(z: np.ndarray) -> np.ndarray:
    """The Euclidean projection of z onto the simplex by trying every support.

    On a support S the closest point of the simplex's face is z_S - (sum(z_S) - 1)/|S|; the
    projection is the feasible (non-negative) candidate closest to z.
    """
    n = len(z)
    best_distance, best = np.inf, None
    for size in range(1, n + 1):
        for support in combinations(range(n), size):
            idx = list(support)
            candidate = np.zeros(n)
            candidate[idx] = z[idx] - (z[idx].sum() - 1) / size
            if np.all(candidate >= 0):
                distance = np.sum((candidate - z) ** 2)
                if distance < best_distance:
                    best_distance, best = distance, candidate
    return best


def threshold(z: np.ndarray, p: np.ndarray) -> float:
    """xi(z) = (sum of z over the support - 1) / |S|."""
    support = p > 0
    return float((z[support].sum() - 1) / support.sum())


def tolerance(dtype, n: int, scale: float = 1.0) -> float:
    return 8 * (n + 2) * np.finfo(dtype).eps * max(1.0, scale)


# --------------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("z,expected", [
    ([0.0, 0.0], [0.5, 0.5]),
    ([1.0, 0.0], [1.0, 0.0]),
    ([0.5, 0.0], [0.75, 0.25]),
    ([1.0, 0.5, -1.0], [0.75, 0.25, 0.0]),
    ([0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25]),
    ([3.0, 0.0, 0.0], [1.0, 0.0, 0.0]),
    ([7.0], [1.0]),
    ([0.2, 0.1, 0.0], [0.2 + 0.7 / 3, 0.1 + 0.7 / 3, 0.7 / 3]),  # xi = -0.7/3, all in the support
])
def test_known_values(z, expected):
    np.testing.assert_allclose(sparsemax(z), expected, rtol=0, atol=1e-15)


@given(bounded_floats(np.float64, 5.0))
def test_two_classes_is_a_clipped_line(zeta):
    """sparsemax((zeta, 0))_1 = clip((1 + zeta)/2, 0, 1), the 'hard sigmoid' of chapter 10."""
    p = sparsemax([zeta, 0.0])
    expected = np.clip((1 + zeta) / 2, 0.0, 1.0)
    assert abs(p[0] - expected) <= 4e-16 and abs(p[1] - (1 - expected)) <= 4e-16


def test_exact_zeros_outside_the_support():
    p = sparsemax([2.0, 1.5, 0.0, -3.0])
    assert p[2] == 0.0 and p[3] == 0.0 and p[0] > 0 and p[1] > 0


@given(vectors(np.float64, bound=50.0, min_size=2, max_size=8))
def test_a_logit_one_below_the_largest_gets_exactly_zero(z):
    """xi(z) >= max(z) - 1 (the largest probability is at most 1), so every z_i <= max(z) - 1
    gets probability exactly 0, not a tiny positive number."""
    p = sparsemax(z)
    far = z <= z.max() - 1
    assert np.all(p[far] == 0.0)


# --------------------------------------------------------------------------------------------------
# the simplex, the projection, the invariances
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_output_is_on_the_simplex(dtype, data):
    z, axis = data.draw(arrays_and_axis(dtype, bound=1e3))
    p = sparsemax(z, axis=axis)
    assert p.shape == z.shape and p.dtype == dtype
    assert np.all(p >= 0) and np.all(p <= 1)
    sums = p.sum() if axis is None else p.sum(axis=axis)
    n = z.size if axis is None else z.shape[axis]
    np.testing.assert_allclose(sums, 1.0, rtol=0, atol=tolerance(dtype, n))


@given(vectors(np.float64, bound=10.0, min_size=1, max_size=6))
def test_is_the_euclidean_projection_brute_force(z):
    np.testing.assert_allclose(sparsemax(z), brute_force_projection(z), rtol=0, atol=1e-13)


@given(vectors(np.float64, bound=100.0, min_size=1, max_size=8))
def test_kkt_conditions(z):
    """p is the projection iff p is on the simplex and, for one xi, p_i = z_i - xi on the
    support and z_i <= xi off it."""
    p = sparsemax(z)
    xi = threshold(z, p)
    scale = np.abs(z).max() + 1
    support = p > 0
    np.testing.assert_allclose(p[support], z[support] - xi, rtol=0, atol=1e-13 * scale)
    assert np.all(z[~support] <= xi + 1e-13 * scale)


@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_scipy_optimize(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=1.5, size=5)
    result = minimize(lambda p: np.sum((p - z) ** 2), np.full(5, 0.2), jac=lambda p: 2 * (p - z),
                      method="SLSQP", bounds=[(0, None)] * 5,
                      constraints=[{"type": "eq", "fun": lambda p: p.sum() - 1,
                                    "jac": lambda p: np.ones_like(p)}],
                      options={"ftol": 1e-12, "maxiter": 200})
    assert result.success
    np.testing.assert_allclose(sparsemax(z), result.x, rtol=0, atol=1e-6)  # SLSQP stops early


@given(vectors(np.float64, bound=100.0, min_size=1, max_size=8), bounded_floats(np.float64, 1e3))
def test_shift_invariance(z, t):
    scale = np.abs(z).max() + abs(t) + 1
    np.testing.assert_allclose(sparsemax(z + t), sparsemax(z), rtol=0, atol=1e-13 * scale)


@given(vectors(np.float64, bound=100.0, min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_permutation_equivariance(z, random):
    order = list(range(len(z)))
    random.shuffle(order)
    np.testing.assert_array_equal(sparsemax(z[order]), sparsemax(z)[order])


def test_large_logits_lose_nothing():
    big = 1e12
    np.testing.assert_allclose(sparsemax([big + 0.5, big, big - 3]), [0.75, 0.25, 0.0], atol=1e-4)
    np.testing.assert_array_equal(sparsemax([1e308, -1e308, 1e308]), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(sparsemax(np.float32([3e38, 3e38])), np.float32([0.5, 0.5]))


# --------------------------------------------------------------------------------------------------
# axes, shapes, dtypes
# --------------------------------------------------------------------------------------------------


@given(data=st.data())
def test_axis_is_the_last_axis_moved(data):
    z = data.draw(logit_arrays(np.float64, bound=10.0, max_dims=4, max_side=4))
    axis = data.draw(st.integers(-z.ndim, z.ndim - 1))
    moved = np.moveaxis(sparsemax(np.moveaxis(z, axis, -1)), -1, axis)
    np.testing.assert_array_equal(sparsemax(z, axis=axis), moved)


def test_axis_none_is_the_flattened_array():
    z = np.arange(12.0).reshape(3, 4) / 7
    np.testing.assert_array_equal(sparsemax(z, axis=None), sparsemax(z.ravel()).reshape(3, 4))


def test_batch_rows_are_independent():
    z = np.array([[1.0, 0.5, -1.0], [0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(sparsemax(z), np.stack([sparsemax(row) for row in z]))
    np.testing.assert_array_equal(sparsemax(z.T, axis=0), sparsemax(z).T)


@pytest.mark.parametrize("value,dtype", [
    (np.float16([1.0, 0.5, -1.0]), np.float16),
    (np.float32([1.0, 0.5, -1.0]), np.float32),
    (np.float64([1.0, 0.5, -1.0]), np.float64),
    (np.longdouble([1.0, 0.5, -1.0]), np.longdouble),
    ([1, 0, -1], np.float64),
    (np.array([3, 1], dtype=np.int8), np.float64),
    (np.array([True, False]), np.float64),
    ([[1.0, 2.0]], np.float64),
])
def test_dtype_rules_follow_softmax(value, dtype):
    assert sparsemax(value).dtype == dtype == sn.softmax(value).dtype
    assert sparsemax_jacobian(value).dtype == dtype


def test_float16_is_computed_in_float32_and_rounded_once():
    z = np.float16([0.3, 0.2, 0.1])
    np.testing.assert_array_equal(sparsemax(z), sparsemax(z.astype(np.float32)).astype(np.float16))


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 3)])
def test_empty_input(shape):
    assert sparsemax(np.zeros(shape)).shape == shape
    assert sparsemax_jacobian(np.zeros(shape)).shape == shape + (shape[-1],)


# --------------------------------------------------------------------------------------------------
# non-finite logits
# --------------------------------------------------------------------------------------------------


def test_minus_inf_is_a_mask():
    z = np.array([0.5, -np.inf, 0.0, -np.inf])
    p = sparsemax(z)
    np.testing.assert_array_equal(p[[1, 3]], [0.0, 0.0])
    np.testing.assert_allclose(p[[0, 2]], sparsemax([0.5, 0.0]), rtol=0, atol=1e-16)
    J = sparsemax_jacobian(z)
    assert np.all(J[[1, 3]] == 0) and np.all(J[:, [1, 3]] == 0)


@pytest.mark.parametrize("z", [[np.nan, 0.0], [np.inf, 0.0], [[0.0, 1.0], [np.inf, np.inf]],
                               [-np.inf, -np.inf], [[0.0, 1.0], [-np.inf, -np.inf]]],
                         ids=["nan", "+inf", "+inf in a batch", "all -inf", "an all -inf row"])
@pytest.mark.parametrize("f", [sparsemax, sparsemax_jacobian], ids=lambda f: f.__name__)
def test_nan_plus_inf_and_all_minus_inf_raise(f, z):
    with pytest.raises(ValueError, match=r"\bz\b"):
        f(z)


def test_all_minus_inf_along_another_axis_raises():
    z = np.array([[0.0, -np.inf], [1.0, -np.inf]])
    assert sparsemax(z, axis=-1).shape == (2, 2)  # each row has a finite logit
    with pytest.raises(ValueError, match=r"\bz\b"):
        sparsemax(z, axis=0)  # the second column has none


# --------------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------------

BAD_ARRAYS = {
    "string": "abc", "numeric string": "1.0", "list of strings": ["1", "2"], "bytes": b"12",
    "None": None, "complex scalar": 1j, "complex array": np.array([1 + 0j, 2]),
    "complex list": [1.0, 2j], "object array": np.array([1.0, None], dtype=object),
    "ragged": [[1.0, 2.0], [3.0]], "dict": {"a": 1},
}


@pytest.mark.parametrize("bad", list(BAD_ARRAYS.values()), ids=list(BAD_ARRAYS))
@pytest.mark.parametrize("f", [sparsemax, sparsemax_jacobian], ids=lambda f: f.__name__)
def test_bad_z(f, bad):
    with pytest.raises(ERRORS, match=r"\bz\b"):
        f(bad)


@pytest.mark.parametrize("f", [sparsemax, sparsemax_jacobian, lambda z: sparsemax(z, axis=None)],
                         ids=["sparsemax", "sparsemax_jacobian", "sparsemax axis=None"])
@pytest.mark.parametrize("z", [1.5, np.float32(2.0), np.array(3.0)])
def test_zero_dim_z(f, z):
    with pytest.raises(ValueError, match=r"\bz\b"):
        f(z)


BAD_AXES = {"1.0": 1.0, "np.float64(0.0)": np.float64(0.0), "'0'": "0", "True": True,
            "np.True_": np.True_, "(0,)": (0,), "[0]": [0], "1j": 1j, "object()": object()}


# ids are fixed strings: an object's repr holds its address, which differs between the xdist
# workers, and workers that collect different test ids abort the whole run
@pytest.mark.parametrize("axis", list(BAD_AXES.values()), ids=list(BAD_AXES))
def test_non_integer_axis(axis):
    with pytest.raises(TypeError, match=r"\baxis\b"):
        sparsemax(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("shape,axis", [((3,), 1), ((3,), -2), ((2, 3), 2), ((2, 3), -3), ((0,), 1)])
def test_axis_out_of_range(shape, axis):
    with pytest.raises(ValueError, match=r"\baxis\b"):
        sparsemax(np.ones(shape), axis=axis)


# --------------------------------------------------------------------------------------------------
# the Jacobian
# --------------------------------------------------------------------------------------------------


def test_jacobian_known_value():
    J = sparsemax_jacobian([1.0, 0.5, -1.0])  # support {1, 2}
    np.testing.assert_array_equal(J, [[0.5, -0.5, 0.0], [-0.5, 0.5, 0.0], [0.0, 0.0, 0.0]])
    assert not np.any((J == 0) & np.signbit(J))  # zeros outside the support are +0.0, not -0.0
    np.testing.assert_array_equal(sparsemax_jacobian([5.0, 0.0]), np.zeros((2, 2)))  # |S| = 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_jacobian_formula_symmetric_annihilates_ones_idempotent(dtype, data):
    z = data.draw(logit_arrays(dtype, bound=1e3, max_dims=3, max_side=5))
    J = sparsemax_jacobian(z)
    n = z.shape[-1]
    assert J.shape == z.shape + (n,) and J.dtype == dtype
    support = (sparsemax(z) > 0).astype(np.float64)
    size = support.sum(axis=-1)[..., None, None]
    expected = np.eye(n) * support[..., None, :] - support[..., :, None] * support[..., None, :] / size
    np.testing.assert_allclose(J, expected, rtol=0, atol=np.finfo(dtype).eps)
    np.testing.assert_array_equal(J, np.swapaxes(J, -1, -2))  # symmetric, exactly
    np.testing.assert_allclose(J @ np.ones(n, dtype), 0, atol=n * np.finfo(dtype).eps)  # J 1 = 0
    np.testing.assert_allclose(J @ J, J, atol=4 * n * np.finfo(dtype).eps)  # a projection
    trace = np.trace(J, axis1=-2, axis2=-1)
    np.testing.assert_allclose(trace, support.sum(axis=-1) - 1, atol=n * np.finfo(dtype).eps)


@given(vectors(np.float64, bound=10.0, min_size=1, max_size=6))
def test_jacobian_agrees_with_finite_differences_away_from_kinks(z):
    p = sparsemax(z)
    margin = np.min(np.abs(z - threshold(z, p)))
    assume(margin > 1e-3)  # no logit near the threshold: the support cannot change under a step
    numeric = sn.numerical_jacobian(sparsemax, z)
    # sparsemax is linear on each piece: the central difference is exact up to rounding
    np.testing.assert_allclose(sparsemax_jacobian(z), numeric, rtol=0, atol=1e-9)


def test_jacobian_is_piecewise_constant():
    z = np.array([1.0, 0.5, -1.0])
    for step in (1e-3, 0.1, 0.2):
        nearby = z + step * np.array([1.0, -1.0, 0.5])
        np.testing.assert_array_equal(sparsemax_jacobian(nearby), sparsemax_jacobian(z))


def test_jacobian_batch_is_rowwise():
    z = np.random.default_rng(3).normal(size=(2, 3, 4))
    J = sparsemax_jacobian(z)
    assert J.shape == (2, 3, 4, 4)
    for index in np.ndindex(2, 3):
        np.testing.assert_array_equal(J[index], sparsemax_jacobian(z[index]))


def test_jacobian_vector_product_is_the_centred_restriction():
    """J v = 1_S * (v - mean of v over S): subtract the support's mean, zero elsewhere."""
    z = np.array([0.9, 0.1, 0.4, -2.0, 0.6])
    v = np.array([1.0, -2.0, 3.0, 4.0, 0.5])
    support = sparsemax(z) > 0
    expected = np.where(support, v - v[support].mean(), 0.0)
    np.testing.assert_allclose(sparsemax_jacobian(z) @ v, expected, atol=1e-15)
