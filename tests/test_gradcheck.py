"""Finite differences and the gradient check: numerical_jacobian, numerical_gradient,
default_step, max_relative_error, gradient_check."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import bounded_floats, vectors
from softmaxnotes import (
    default_step,
    gradient_check,
    log_softmax,
    logsumexp,
    max_relative_error,
    numerical_gradient,
    numerical_jacobian,
    softmax,
    softmax_jacobian,
)

EPS = np.finfo(np.float64).eps


# --------------------------------------------------------------------------------------------------
# numerical_jacobian
# --------------------------------------------------------------------------------------------------


def test_linear_map_is_exact_up_to_rounding():
    rng = np.random.default_rng(5)
    matrix = rng.normal(size=(4, 3))
    z = rng.normal(size=3)
    jac = numerical_jacobian(lambda x: matrix @ x, z)
    assert jac.shape == (4, 3)
    np.testing.assert_allclose(jac, matrix, rtol=1e-9, atol=1e-9)


def test_quadratic_central_difference_has_no_truncation_error():
    """Central differences are exact for quadratics, so with eps = 2^-10 (exact steps) the
    result is 2 z up to rounding of f."""
    z = np.array([0.5, -3.0, 10.0])
    jac = numerical_jacobian(lambda x: x**2, z, eps=2.0**-10)
    np.testing.assert_allclose(jac, np.diag(2 * z), rtol=0, atol=1e-10)


def test_shape_m_by_n_and_scalar_output():
    z = np.array([1.0, 2.0, 3.0])
    assert numerical_jacobian(lambda x: x[:2] * 2, z).shape == (2, 3)
    scalar = numerical_jacobian(lambda x: float(np.sum(x**2)), z)
    assert scalar.shape == (1, 3)
    np.testing.assert_allclose(scalar[0], 2 * z, rtol=1e-9)
    assert numerical_jacobian(lambda x: np.zeros(5), np.zeros(0)).shape == (5, 0)


def test_softmax_jacobian_via_finite_differences():
    z = np.array([0.1, 1.5, -2.0, 0.0])
    assert max_relative_error(softmax_jacobian(z), numerical_jacobian(softmax, z)) < 1e-8


def test_log_softmax_jacobian_is_identity_minus_softmax_rows():
    """d log a_i / d z_j = delta_ij - a_j."""
    z = np.array([2.0, -1.0, 0.5])
    expected = np.eye(3) - softmax(z)[np.newaxis, :]
    assert max_relative_error(expected, numerical_jacobian(log_softmax, z)) < 1e-8


def test_gradient_of_logsumexp_is_softmax():
    z = np.array([3.0, -2.0, 0.25, 1.0])
    assert gradient_check(logsumexp, softmax(z), z) < 1e-8


def test_float32_point_is_evaluated_in_float64():
    seen = []

    def f(x):
        seen.append(x.dtype)
        return x * 3

    jac = numerical_jacobian(f, np.float32([1.0, 2.0]))
    assert set(seen) == {np.dtype(np.float64)}
    assert jac.dtype == np.float64
    np.testing.assert_allclose(jac, 3 * np.eye(2), rtol=1e-9)


def test_custom_step_is_used():
    calls = []

    def f(x):
        calls.append(x.copy())
        return x

    numerical_jacobian(f, np.array([1.0]), eps=0.25)
    assert sorted(c[0] for c in calls) == [0.75, 1.25]


def test_default_step_scales_with_x():
    x = np.array([0.0, 0.5, -1.0, 1e6, -1e-3])
    expected = np.cbrt(EPS) * np.maximum(1.0, np.abs(x))
    np.testing.assert_array_equal(default_step(x), expected)
    assert np.cbrt(EPS) == pytest.approx(6.055454e-6, rel=1e-6)
    calls = []

    def f(v):
        calls.append(v.copy())
        return v

    numerical_jacobian(f, np.array([1e6]))
    assert max(c[0] for c in calls) - 1e6 == pytest.approx(np.cbrt(EPS) * 1e6, rel=1e-9)


def test_input_point_is_not_modified():
    z = np.array([1.0, 2.0])
    numerical_jacobian(np.sin, z)
    np.testing.assert_array_equal(z, [1.0, 2.0])


@given(z=vectors(np.float64, bound=100.0, max_size=5))
def test_elementwise_function(z):
    """sin: J = diag(cos z); error <= h^2/6 + eps/h per entry, h <= 6e-4 here."""
    jac = numerical_jacobian(np.sin, z)
    assert np.all(np.abs(jac - np.diag(np.cos(z))) <= 1e-7)


# --------------------------------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 1, 2), (0,), (2, 0)])
def test_numerical_gradient_any_shape(shape):
    rng = np.random.default_rng(6)
    x = rng.normal(size=shape)
    grad = numerical_gradient(lambda w: float(np.sum(w**3)), x)
    assert grad.shape == shape
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8, atol=1e-9)


@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=3),
                    elements=bounded_floats(np.float64, 10.0)))
def test_numerical_gradient_is_flattened_jacobian(x):
    f = lambda w: float(np.sum(np.tanh(w) * np.arange(w.size).reshape(w.shape)))  # noqa: E731
    grad = numerical_gradient(f, x)
    flat = numerical_jacobian(lambda v: f(v.reshape(x.shape)), x.ravel())
    np.testing.assert_array_equal(grad, flat.reshape(x.shape))


def test_weight_gradient_of_softmax_regression():
    """dL/dW = x (a - e_c)^T for L = cross-entropy of W^T x (chapter 4)."""
    from softmaxnotes import cross_entropy, cross_entropy_grad

    rng = np.random.default_rng(7)
    x = rng.normal(size=4)
    weights = rng.normal(size=(4, 3))
    analytic = np.outer(x, cross_entropy_grad(weights.T @ x, 1))
    assert gradient_check(lambda w: cross_entropy(w.T @ x, 1), analytic, weights) < 1e-7


# --------------------------------------------------------------------------------------------------
# max_relative_error and gradient_check
# --------------------------------------------------------------------------------------------------


def test_max_relative_error_definition():
    assert max_relative_error([1.0], [1.1]) == pytest.approx(0.1 / 1.1, rel=1e-12)
    assert max_relative_error([0.0, 2.0], [0.0, 2.0]) == 0.0  # both zero: 0, not nan
    assert max_relative_error([0.0], [1e-300]) == 1.0
    assert max_relative_error([1.0, -1.0], [1.0, 1.0]) == 2.0
    assert max_relative_error(np.zeros((2, 0)), np.zeros((2, 0))) == 0.0
    assert max_relative_error(3.0, 3.0) == 0.0
    assert isinstance(max_relative_error([1.0], [2.0]), float)


@given(data=st.data())
def test_max_relative_error_properties(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    a = data.draw(hnp.arrays(np.float64, shape, elements=bounded_floats(np.float64, 1e6)))
    b = data.draw(hnp.arrays(np.float64, shape, elements=bounded_floats(np.float64, 1e6)))
    err = max_relative_error(a, b)
    assert err == max_relative_error(b, a)  # symmetric
    assert 0.0 <= err <= 2.0
    with np.errstate(invalid="ignore"):
        ratio = np.abs(a - b) / np.maximum(np.abs(a), np.abs(b))
    expected = float(np.max(np.where((a == 0) & (b == 0), 0.0, ratio)))
    assert err == pytest.approx(expected, rel=1e-15, abs=0)
    assert max_relative_error(a, a) == 0.0
    assert max_relative_error(4 * a, 4 * b) == pytest.approx(err, rel=1e-15, abs=0)


def test_gradient_check_returns_float_and_detects_errors():
    z = np.array([0.3, -0.7, 1.1])
    good = gradient_check(logsumexp, softmax(z), z)
    assert isinstance(good, float) and good < 1e-8
    bad = gradient_check(logsumexp, softmax(z) * 1.05, z)
    assert bad > 1e-2
    assert gradient_check(logsumexp, softmax(z), z, eps=1e-4) < 1e-6
