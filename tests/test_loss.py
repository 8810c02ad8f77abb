"""cross_entropy and cross_entropy_grad: values and accuracy (mpmath), gradient = softmax - y,
agreement with finite differences, the -inf logit, empty batches, shapes, dtypes."""

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
    any_finite_floats,
    bounded_floats,
    dominated_vectors,
    log_softmax_error_units,
    mp_stats,
    relative_error_ulps,
    softmax_error_units,
    vectors,
)
from softmaxnotes import (
    cross_entropy,
    cross_entropy_grad,
    gradient_check,
    log_softmax,
    max_relative_error,
    numerical_gradient,
    softmax,
)


@st.composite
def probability_vectors(draw, n: int) -> np.ndarray:
    """Non-negative float64 vectors summing to 1 within a few eps (some entries exactly 0)."""
    weights = draw(st.lists(st.one_of(st.just(0.0), st.floats(1e-3, 1.0)), min_size=n, max_size=n))
    if sum(weights) == 0:
        weights[draw(st.integers(0, n - 1))] = 1.0
    w = np.array(weights)
    return w / w.sum()


def grad_error_ok(grad, z, c, dtype) -> bool:
    """Entries k != c are softmax entries (1 unit, see conftest); the target entry
    -sum_{k != c} a_k is within eps (sum_{k != c} scale_k + n |g_c|) of the exact a_c - 1."""
    stats = mp_stats(z)
    a, n = stats["a"], stats["n"]
    eps = float(np.finfo(dtype).eps)
    sub = float(np.finfo(dtype).smallest_subnormal)
    others = [k for k in range(n) if k != c]
    if others and softmax_error_units(grad[others], {**stats, "a": [a[k] for k in others],
                                                      "z": [stats["z"][k] for k in others]},
                                      dtype) > 1:
        return False
    with mpmath.workdps(MP_DPS):
        exact = -mpmath.fsum(a[k] for k in others)
        scale = mpmath.fsum(a[k] * (abs(stats["z"][k] - stats["m"]) + stats["cond"] + n + 4)
                            for k in others) + n * abs(exact)
        return abs(mpmath.mpf(float(grad[c])) - exact) <= eps * scale + 4 * sub


# --------------------------------------------------------------------------------------------------
# Values and accuracy
# --------------------------------------------------------------------------------------------------


def test_known_values():
    assert cross_entropy([0.0, 0.0], 1) == np.log(2.0)
    assert cross_entropy([1e4, 0.0], 1) == 1e4
    assert cross_entropy([1e4, 0.0], 0) == 0.0
    assert cross_entropy([0.0, 0.0], [0.5, 0.5]) == np.log(2.0)
    np.testing.assert_array_equal(cross_entropy_grad([0.0, 0.0], 1), [0.5, -0.5])


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_index_target_accuracy(dtype, data):
    """L = -log a_c, bitwise -log_softmax(z)[c], within 1 unit of the mpmath value."""
    z = data.draw(vectors(dtype, bound=1e3, max_size=6))
    c = data.draw(st.integers(0, z.size - 1))
    loss = cross_entropy(z, c)
    assert loss.dtype == dtype and np.shape(loss) == ()
    assert loss == -log_softmax(z)[c]
    stats = mp_stats(z)
    assert log_softmax_error_units([-loss], {**stats, "logp": [stats["logp"][c]]}, dtype) <= 1


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_probability_target_accuracy(dtype, data):
    """L = -sum_k y_k log a_k: the terms have one sign, so the error is at most
    eps (sum_k y_k scale_k + n L) with scale_k the log_softmax scale of conftest."""
    z = data.draw(vectors(dtype, bound=1e3, max_size=6))
    y = data.draw(probability_vectors(z.size))
    loss = cross_entropy(z, y)
    assert loss.dtype == dtype and np.shape(loss) == ()
    stats = mp_stats(z)
    n = stats["n"]
    with mpmath.workdps(MP_DPS):
        ys = [mpmath.mpf(float(v)) for v in y]
        exact = -mpmath.fsum(yk * lk for yk, lk in zip(ys, stats["logp"]))
        scale = mpmath.fsum(yk * ((n + 4) * abs(lk) + stats["cond"])
                            for yk, lk in zip(ys, stats["logp"]))
        scale += n * abs(exact)
        err = abs(mpmath.mpf(float(loss)) - exact)
        info = np.finfo(dtype)
        assert err <= float(info.eps) * scale + 4 * float(info.smallest_subnormal)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_one_hot_probability_target_equals_index_target(dtype, data):
    z = data.draw(vectors(dtype, bound=None, max_size=6))
    c = data.draw(st.integers(0, z.size - 1))
    one_hot = np.zeros(z.size)
    one_hot[c] = 1.0
    assert cross_entropy(z, one_hot) == cross_entropy(z, c)
    # the gradients agree up to the rounding of a_c - 1, which the index form avoids
    g_index, g_prob = cross_entropy_grad(z, c), cross_entropy_grad(z, one_hot)
    assert np.all(np.abs(g_index.astype(float) - g_prob) <= 2 * np.finfo(dtype).eps)


@given(z=vectors(np.float64, bound=None, max_size=6), data=st.data())
def test_loss_is_non_negative_and_never_nan(z, data):
    c = data.draw(st.integers(0, z.size - 1))
    loss = cross_entropy(z, c)
    assert not np.isnan(loss) and loss >= 0
    # L is +inf only when the true loss exceeds the largest float
    if np.isinf(loss):
        assert float(np.max(z)) - float(z[c]) > np.finfo(np.float64).max
    y = data.draw(probability_vectors(z.size))
    loss_y = cross_entropy(z, y)
    assert not np.isnan(loss_y) and loss_y >= 0
    grad = cross_entropy_grad(z, c)
    assert np.all(np.isfinite(grad)) and np.all(np.abs(grad) <= 1)


# --------------------------------------------------------------------------------------------------
# Gradient
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("z,c", [([30.0, 0.0, -5.0], 0), ([0.0, -30.0], 0), ([-30.0, 0.0], 1),
                                 ([0.0, -40.0, -41.0], 0), ([30.0, 0.0, -5.0], 1),
                                 ([1.0, 2.0, 3.0], 2), ([-5.0, 30.0, 0.0, 2.0], 1)])
def test_grad_target_entry_accurate_when_a_c_near_one(z, c, dtype):
    """g_c = a_c - 1 ~ -9.4e-14 for [30, 0, -5]: 1 - a_c by subtraction keeps ~3 digits (float64)
    or none (float32, where a_c rounds to 1). Every entry within 4 ulps of mpmath."""
    z = np.array(z, dtype=dtype)
    grad = cross_entropy_grad(z, c)
    assert grad.dtype == dtype and grad.shape == z.shape
    stats = mp_stats(z)
    with mpmath.workdps(MP_DPS):
        for k in range(z.size):
            if k == c:  # a_c - 1 = -sum_{j != c} a_j exactly
                exact = -mpmath.fsum(stats["a"][j] for j in range(z.size) if j != c)
            else:
                exact = stats["a"][k]
            assert relative_error_ulps(grad[k], exact, dtype) <= 4
    assert grad[c] < 0


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_grad_accuracy_dominated(dtype, data):
    z = data.draw(dominated_vectors(dtype))
    c = data.draw(st.one_of(st.just(int(np.argmax(z))), st.integers(0, z.size - 1)))
    assert grad_error_ok(cross_entropy_grad(z, c), z, c, dtype)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_grad_accuracy_general(dtype, data):
    z = data.draw(vectors(dtype, bound=1e3, max_size=6))
    c = data.draw(st.integers(0, z.size - 1))
    grad = cross_entropy_grad(z, c)
    assert grad_error_ok(grad, z, c, dtype)
    # the entries of a - y sum to 0 (relative to their magnitudes)
    g = grad.astype(np.float64)
    assert abs(g.sum()) <= 2 * z.size * float(np.finfo(dtype).eps) * np.abs(g).sum()


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@given(data=st.data())
def test_grad_probability_target_is_softmax_minus_y(dtype, data):
    z = data.draw(vectors(dtype, bound=None, max_size=6))
    y = data.draw(probability_vectors(z.size))
    grad = cross_entropy_grad(z, y)
    assert grad.dtype == dtype
    np.testing.assert_array_equal(grad, (softmax(z) - y).astype(dtype))


@given(z=vectors(np.float64, bound=20.0, max_size=6), data=st.data())
def test_grad_agrees_with_numerical_gradient(z, data):
    """Central differences (step ~6e-6 max(1, |z_j|)): |g - g_num| <= 1e-6 |g| + 1e-7."""
    use_index = data.draw(st.booleans())
    if use_index:
        target = data.draw(st.integers(0, z.size - 1))
    else:
        target = data.draw(probability_vectors(z.size))
    grad = cross_entropy_grad(z, target)
    numeric = numerical_gradient(lambda x: cross_entropy(x, target), z)
    assert np.all(np.abs(grad - numeric) <= 1e-6 * np.abs(grad) + 1e-7)


def test_gradient_check_passes_and_catches_a_wrong_gradient():
    z = np.array([0.2, -1.3, 2.2, 0.7])
    loss = lambda x: cross_entropy(x, 2)  # noqa: E731
    assert gradient_check(loss, cross_entropy_grad(z, 2), z) < 1e-7
    wrong = softmax(z) - np.array([0.0, 0.0, 0.0, 1.0])  # the wrong class
    assert gradient_check(loss, wrong, z) > 1e-2
    assert gradient_check(loss, 2 * cross_entropy_grad(z, 2), z) > 1e-2


def test_batch_matches_rows_and_mean_gradient():
    rng = np.random.default_rng(4)
    z = rng.normal(scale=4, size=(5, 3))
    target = np.array([0, 2, 1, 1, 0])
    losses = cross_entropy(z, target)
    grads = cross_entropy_grad(z, target)
    assert losses.shape == (5,) and grads.shape == (5, 3)
    for b in range(5):
        assert losses[b] == cross_entropy(z[b], target[b])
        np.testing.assert_array_equal(grads[b], cross_entropy_grad(z[b], target[b]))
    numeric = numerical_gradient(lambda x: np.mean(cross_entropy(x, target)), z)
    assert max_relative_error(grads / 5, numeric) < 1e-6
    y = softmax(rng.normal(size=(5, 3)))
    assert cross_entropy(z, y).shape == (5,)
    np.testing.assert_array_equal(cross_entropy_grad(z, y), softmax(z) - y)


# --------------------------------------------------------------------------------------------------
# Non-finite logits, empty batch, extremes
# --------------------------------------------------------------------------------------------------


def test_minus_inf_in_other_class_contributes_zero():
    z = np.array([0.0, -np.inf, 2.0])
    assert cross_entropy(z, 0) == cross_entropy(z[[0, 2]], 0)
    y = np.array([0.3, 0.0, 0.7])
    loss = cross_entropy(z, y)
    assert np.isfinite(loss)
    assert loss == cross_entropy(z[[0, 2]], y[[0, 2]])
    grad = cross_entropy_grad(z, y)
    assert not np.isnan(grad).any() and grad[1] == 0.0
    grad_c = cross_entropy_grad(z, 2)
    assert not np.isnan(grad_c).any() and grad_c[1] == 0.0
    batch = np.array([[0.0, -np.inf, 2.0], [1.0, 1.0, -np.inf]])
    losses = cross_entropy(batch, np.array([[0.5, 0.0, 0.5], [0.5, 0.5, 0.0]]))
    assert np.all(np.isfinite(losses))
    assert losses[1] == np.log(2.0)


def test_minus_inf_at_target_gives_plus_inf_not_nan():
    z = np.array([0.0, -np.inf, 2.0])
    assert cross_entropy(z, 1) == np.inf
    assert cross_entropy(z, [0.0, 1.0, 0.0]) == np.inf
    grad = cross_entropy_grad(z, 1)  # a_1 = 0, so the gradient is a - e_1 = [a_0, -1, a_2]
    assert not np.isnan(grad).any()
    np.testing.assert_allclose(grad, softmax(z) - [0, 1, 0], rtol=2 * np.finfo(float).eps, atol=0)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_empty_batch(dtype):
    z = np.zeros((0, 4), dtype=dtype)
    for target in (np.zeros(0, dtype=int), np.zeros((0, 4))):
        loss = cross_entropy(z, target)
        assert loss.shape == (0,) and loss.dtype == dtype
        grad = cross_entropy_grad(z, target)
        assert grad.shape == (0, 4) and grad.dtype == dtype


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_extreme_logits(dtype):
    big = np.finfo(dtype).max
    z = np.array([big, 0.0, -big], dtype=dtype)
    assert cross_entropy(z, 0) == 0
    assert cross_entropy(z, 1) == big
    assert cross_entropy(z, 2) == np.inf  # true value 2 * max overflows: correctly rounded
    np.testing.assert_array_equal(cross_entropy_grad(z, 0), [0, 0, 0])
    np.testing.assert_array_equal(cross_entropy_grad(z, 1), [1, -1, 0])
    loss = cross_entropy(np.array([[1e4, 0.0], [0.0, 1e4]], dtype=dtype), np.array([1, 1]))
    np.testing.assert_array_equal(loss, np.array([1e4, 0.0], dtype=dtype))


# --------------------------------------------------------------------------------------------------
# Shapes, dtypes, accepted target types
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "z,dtype",
    [(np.float32([1, 2, 3]), np.float32), (np.float64([1, 2, 3]), np.float64),
     (np.float16([1, 2, 3]), np.float16), (np.int64([1, 2, 3]), np.float64),
     ([1, 2, 3], np.float64), (np.array([True, False, True]), np.float64)],
)
@pytest.mark.parametrize("target", [2, np.int64(2), np.uint8(2), np.array(2),
                                    np.array([0.25, 0.25, 0.5]), np.float32([0.25, 0.25, 0.5])])
def test_dtype_follows_logits(z, dtype, target):
    loss = cross_entropy(z, target)
    assert loss.dtype == dtype and np.shape(loss) == ()
    grad = cross_entropy_grad(z, target)
    assert grad.dtype == dtype and grad.shape == (3,)


def test_batch_target_types():
    z = np.arange(6.0).reshape(2, 3)
    for target in ([0, 2], (0, 2), np.int8([0, 2]), np.uint64([0, 2])):
        np.testing.assert_array_equal(cross_entropy(z, target), cross_entropy(z, np.array([0, 2])))


@given(z=hnp.arrays(np.float32, st.tuples(st.integers(1, 4), st.integers(1, 5)),
                    elements=bounded_floats(np.float32, 1e3)), data=st.data())
def test_batch_index_target_float32(z, data):
    target = data.draw(hnp.arrays(np.int64, z.shape[:1], elements=st.integers(0, z.shape[1] - 1)))
    loss = cross_entropy(z, target)
    assert loss.dtype == np.float32 and loss.shape == z.shape[:1]
    picked = np.take_along_axis(log_softmax(z), target[:, None], axis=1)[:, 0]
    np.testing.assert_array_equal(loss, -picked)


@given(z=hnp.arrays(np.float64, st.tuples(st.integers(1, 3), st.integers(1, 4)),
                    elements=any_finite_floats(np.float64)))
def test_grad_rows_are_finite_any_finite_batch(z):
    target = np.zeros(z.shape[0], dtype=int)
    grad = cross_entropy_grad(z, target)
    assert np.all(np.isfinite(grad))
    assert np.all(grad[:, 0] <= 0) and np.all(grad[:, 1:] >= 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_target_entry_stays_in_its_exact_range_when_the_target_is_improbable(dtype):
    """a_c - 1 lies in [-1, 0]; summing the other probabilities can round to 1 + eps (seen with
    random logits where a_c underflows), which must not leak out as an entry below -1."""
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((2000, 7)) * 30).astype(dtype)
    z[:, 0] = -1e4  # the target class gets probability 0
    grad = cross_entropy_grad(z, np.zeros(2000, dtype=int))
    assert grad.dtype == dtype
    assert np.all(grad[:, 0] >= -1) and np.all(grad[:, 0] <= 0)
    assert np.all(grad[:, 1:] >= 0) and np.all(grad[:, 1:] <= 1)
