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
    cross_entropy,
    cross_entropy_grad,
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
from softmaxnotes.gradcheck import GOOD_RELATIVE_ERROR, RELATIVE_ERROR_FLOOR, ROUNDOFF_MARGIN

EPS = np.finfo(np.float64).eps
U = EPS / 2  # unit roundoff


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


def test_divisor_is_the_distance_between_the_evaluated_points():
    """f(v) = v: the quotient is (f(z+h) - f(z-h)) / ((z+h) - (z-h)) = 1 exactly, although the
    rounded points are not exactly 2h apart."""
    z = np.array([0.1, 3.7, -1e-7, 0.0])
    for eps in (None, 1e-3, 1e-5):
        assert np.array_equal(numerical_jacobian(lambda v: v.copy(), z, eps=eps), np.eye(4))
    forward, backward = 0.1 + 1e-3, 0.1 - 1e-3
    assert forward - backward != 2e-3  # dividing by 2h would not give 1


def test_step_distance_is_exact_by_sterbenz_when_the_points_are_close():
    """Once |z_j| >= 3 h the two points are within a factor 2: their distance is exact."""
    from fractions import Fraction

    rng = np.random.default_rng(13)
    z = rng.uniform(-50, 50, size=2000)
    h = default_step(z)
    keep = np.abs(z) >= 3 * h
    for zj, hj in zip(z[keep], h[keep]):
        forward, backward = zj + hj, zj - hj
        assert Fraction(forward - backward) == Fraction(forward) - Fraction(backward)


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
    assert max_relative_error([1.0, -1.0], [1.0, 1.0]) == 2.0
    assert max_relative_error(np.zeros((2, 0)), np.zeros((2, 0))) == 0.0
    assert max_relative_error(3.0, 3.0) == 0.0
    assert isinstance(max_relative_error([1.0], [2.0]), float)


def test_max_relative_error_pure_relative_with_floor_zero():
    """floor=0 is CS231n's pure relative error |a - b| / max(|a|, |b|), 0 where both are 0."""
    assert max_relative_error([0.0], [1e-300], floor=0) == 1.0
    assert max_relative_error([0.0, 0.0], [0.0, 0.0], floor=0) == 0.0
    assert max_relative_error([1e-17], [3e-17], floor=0) == pytest.approx(2 / 3, rel=1e-12)


def test_default_floor_value():
    assert RELATIVE_ERROR_FLOOR == 1e-10
    # a few times u^(2/3), the best absolute accuracy of a float64 central difference at unit scale
    assert 2 < RELATIVE_ERROR_FLOOR / U ** (2 / 3) < 10


def test_two_gradients_both_zero_up_to_rounding_agree():
    """Both about 1e-17: the pure relative error says 'wrong' (about 0.3 to 0.7); the floor
    compares them in absolute terms. Fails on the old code, which had no floor."""
    analytic = np.array([1.2e-17, -0.7e-17, 0.0, 2.2e-16])
    numeric = np.array([0.9e-17, -1.1e-17, 1e-17, 2.0e-16])
    assert max_relative_error(analytic, numeric, floor=0) > 0.3
    err = max_relative_error(analytic, numeric)
    assert err == pytest.approx(2e-17 / RELATIVE_ERROR_FLOOR, rel=1e-9)
    assert err < 1e-6


def test_zero_against_nonzero_fails():
    """A zero gradient against a nonzero one reads 1 whenever the nonzero entries exceed the
    floor, as without a floor."""
    assert max_relative_error([0.5, -1e-3, 2e-10], [0.0, 0.0, 0.0]) == 1.0
    assert max_relative_error(np.zeros(3), [0.0, 1e-6, 0.0]) == 1.0
    # below the floor the error is measured against the floor
    assert max_relative_error([0.0], [5e-11]) == pytest.approx(0.5, rel=1e-12)


def test_floor_is_an_array_per_entry():
    a, b = np.array([1e-6, 1.0]), np.array([2e-6, 1.0])
    assert max_relative_error(a, b, floor=[1e-3, 0.0]) == pytest.approx(1e-3, rel=1e-12)
    assert max_relative_error(a, b, floor=[0.0, 0.0]) == pytest.approx(0.5, rel=1e-12)
    assert max_relative_error(a.reshape(2, 1), b.reshape(2, 1), floor=np.array([[1e-3]])) == (
        pytest.approx(1e-3, rel=1e-12))


@given(data=st.data())
def test_max_relative_error_properties(data):
    shape = data.draw(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
    a = data.draw(hnp.arrays(np.float64, shape, elements=bounded_floats(np.float64, 1e6)))
    b = data.draw(hnp.arrays(np.float64, shape, elements=bounded_floats(np.float64, 1e6)))
    floor = data.draw(st.sampled_from([0.0, 1e-10, 1e-3, 1.0]))
    err = max_relative_error(a, b, floor=floor)
    assert err == max_relative_error(b, a, floor=floor)  # symmetric
    assert 0.0 <= err <= 2.0
    with np.errstate(invalid="ignore"):
        ratio = np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)
    expected = float(np.max(np.where((a == 0) & (b == 0), 0.0, ratio)))
    assert err == pytest.approx(expected, rel=1e-15, abs=0)
    assert max_relative_error(a, a, floor=floor) == 0.0
    # scaling both arrays and the floor leaves it unchanged
    assert max_relative_error(4 * a, 4 * b, floor=4 * floor) == pytest.approx(err, rel=1e-15, abs=0)
    # a larger floor never reports a larger error
    assert max_relative_error(a, b, floor=floor + 1.0) <= err + 1e-15


def test_gradient_check_at_a_minimum_reads_good():
    """At z = log y (label-smoothed y) the loss is at its minimum: both gradients are zero up to
    rounding (a - y is about 1e-16, the central difference about u L / h, some 1e-12). The pure
    relative error compares noise with noise and reads about 1; gradient_check's floor reads good.
    Fails on the old code."""
    cases = [(6, 2, 0.1, 0.0), (6, 2, 0.1, 3.0), (3, 0, 0.3, -1.0), (10, 9, 0.05, 0.0)]
    for n, c, eps_ls, shift in cases:
        y = (1 - eps_ls) * np.eye(n)[c] + eps_ls / n
        z = np.log(y) + shift
        loss = lambda v: cross_entropy(v, y)  # noqa: E731
        grad = cross_entropy_grad(z, y)
        numeric = numerical_gradient(loss, z)
        assert np.abs(grad).max() < 1e-15 and np.abs(numeric).max() < 1e-10
        assert max_relative_error(grad, numeric, floor=0) > 0.5
        assert gradient_check(loss, grad, z) < 1e-7


def test_gradient_check_default_floor_formula():
    """floor_j = max(10 u |f(x)| / (1e-7 h_j), 1e-10), h_j the step of entry j."""
    rng = np.random.default_rng(11)
    x = rng.normal(scale=3.0, size=(2, 3))
    f = lambda w: float(np.sum(np.sin(w)) + 7.0)  # noqa: E731
    analytic = np.cos(x) * (1 + 1e-6 * rng.normal(size=x.shape))
    numeric = numerical_gradient(f, x)
    assert (GOOD_RELATIVE_ERROR, ROUNDOFF_MARGIN) == (1e-7, 10.0)
    floor = np.maximum(10 * U * abs(f(x)) / (1e-7 * default_step(x)), 1e-10)
    assert gradient_check(f, analytic, x) == max_relative_error(analytic, numeric, floor=floor)
    floor_h = np.maximum(10 * U * abs(f(x)) / (1e-7 * 1e-4), 1e-10)
    assert gradient_check(f, analytic, x, eps=1e-4) == max_relative_error(
        analytic, numerical_gradient(f, x, eps=1e-4), floor=floor_h)
    # an explicit floor is used as given; floor=0 is the pure relative error
    assert gradient_check(f, analytic, x, floor=0) == max_relative_error(analytic, numeric, floor=0)
    assert gradient_check(f, analytic, x, floor=0.5) == max_relative_error(
        analytic, numeric, floor=0.5)


def test_gradient_check_floor_scale():
    """For a constant f the central difference is exactly 0. An analytic entry no larger than ten
    times the round-off estimate u |f| / h reads at most 1e-7; a hundred times it reads 1e-6; a
    zero numerical gradient against an analytic one of order 1 reads 1 (fails)."""
    c = 2.5
    f = lambda v: c  # noqa: E731
    x = np.array([0.3, -0.2])
    h = default_step(x)
    assert np.array_equal(numerical_gradient(f, x), np.zeros(2))
    estimate = U * c / h
    assert gradient_check(f, 9 * estimate, x) <= 0.9e-7 * (1 + 1e-12)
    assert gradient_check(f, 100 * estimate, x) == pytest.approx(1e-6, rel=1e-12)
    # the floor, about 2e-3 |f(x)| with the default step
    assert gradient_check(f, [2e-3 * c, 0.0], x) == pytest.approx(1, rel=0.2)
    assert gradient_check(f, [0.4, -0.1], x) == 1.0
    assert gradient_check(f, np.zeros(2), x) == 0.0
    # f(x) = 0: the fixed floor 1e-10 applies
    zero = lambda v: 0.0  # noqa: E731
    assert gradient_check(zero, [5e-11, 0.0], x) == pytest.approx(0.5, rel=1e-12)
    assert gradient_check(zero, [1e-3, 0.0], x) == 1.0


def test_gradient_check_still_catches_wrong_gradients():
    """The floor only affects entries below about 2e-4 |f(x)|: a factor 2, a flipped sign or a
    missing entry still reads above 1e-2 at random points."""
    rng = np.random.default_rng(12)
    for _ in range(50):
        n = int(rng.integers(2, 8))
        c = int(rng.integers(0, n))
        z = rng.normal(scale=2.0, size=n)
        loss = lambda v: cross_entropy(v, c)  # noqa: E731
        grad = cross_entropy_grad(z, c)
        assert gradient_check(loss, grad, z) < 1e-7
        assert gradient_check(loss, 2 * grad, z) > 0.4
        flipped = grad.copy()
        flipped[c] = -flipped[c]
        assert gradient_check(loss, flipped, z) > 1.0
        assert gradient_check(loss, grad - grad[c] * np.eye(n)[c], z) == 1.0


def test_gradient_check_needs_a_finite_value():
    with pytest.raises(ValueError, match=r"\bf\b"):
        gradient_check(lambda v: np.inf, [1.0, 1.0], [1.0, 2.0])


def test_gradient_check_returns_float_and_detects_errors():
    z = np.array([0.3, -0.7, 1.1])
    good = gradient_check(logsumexp, softmax(z), z)
    assert isinstance(good, float) and good < 1e-8
    bad = gradient_check(logsumexp, softmax(z) * 1.05, z)
    assert bad > 1e-2
    assert gradient_check(logsumexp, softmax(z), z, eps=1e-4) < 1e-6
