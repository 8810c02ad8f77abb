"""Tests of gumbel_softmax (softmaxnotes.gumbel, chapter 10), including a chi-square test of the
Gumbel-max trick."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import logit_arrays, vectors
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import chisquare

import softmaxnotes as sn
from softmaxnotes import gumbel_softmax

ERRORS = (TypeError, ValueError)
seeds = st.integers(0, 2**32 - 1)
taus = st.floats(1e-2, 1e2, allow_nan=False, allow_infinity=False)


def noise_for(seed: int, shape) -> np.ndarray:
    """The noise gumbel_softmax draws from default_rng(seed), as its docstring documents."""
    return np.random.default_rng(seed).gumbel(size=shape)


# --------------------------------------------------------------------------------------------------
# the soft sample
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data(), tau=taus, seed=seeds)
def test_rows_sum_to_one(dtype, data, tau, seed):
    z = data.draw(logit_arrays(dtype, bound=1e3))
    y = gumbel_softmax(z, tau, rng=np.random.default_rng(seed))
    assert y.shape == z.shape and y.dtype == dtype
    assert np.all(y >= 0) and np.all(y <= 1)
    n = z.shape[-1]
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=0, atol=4 * n * np.finfo(dtype).eps)


@given(vectors(np.float64, bound=20.0, min_size=1, max_size=6), st.floats(0.1, 10.0), seeds)
def test_is_softmax_of_perturbed_logits_over_tau(z, tau, seed):
    y = gumbel_softmax(z, tau, rng=np.random.default_rng(seed))
    g = noise_for(seed, z.shape)
    np.testing.assert_allclose(y, sn.softmax((z + g) / tau), rtol=1e-12, atol=1e-300)


def test_default_tau_is_one():
    z = np.array([0.3, -1.0, 2.0])
    np.testing.assert_array_equal(gumbel_softmax(z, rng=np.random.default_rng(1)),
                                  gumbel_softmax(z, 1.0, rng=np.random.default_rng(1)))


@given(vectors(np.float64, bound=20.0, min_size=2, max_size=6), seeds)
def test_tau_to_zero_gives_the_one_hot_of_the_gumbel_max_sample(z, seed):
    g = noise_for(seed, z.shape)
    winner = np.argmax(z + g)
    cold = gumbel_softmax(z, 1e-300, rng=np.random.default_rng(seed))
    np.testing.assert_array_equal(cold, np.eye(len(z))[winner])
    # and the winner's probability grows as tau shrinks
    tops = [gumbel_softmax(z, tau, rng=np.random.default_rng(seed))[winner]
            for tau in (10.0, 1.0, 0.1, 0.01)]
    assert all(a <= b for a, b in zip(tops, tops[1:]))


@given(vectors(np.float64, bound=20.0, min_size=1, max_size=6), seeds)
def test_tau_to_infinity_gives_the_uniform_vector(z, seed):
    hot = gumbel_softmax(z, 1e300, rng=np.random.default_rng(seed))
    np.testing.assert_allclose(hot, np.full(len(z), 1 / len(z)), rtol=1e-15)


def test_float32_with_a_tau_that_float32_cannot_hold():
    z = np.float32([[1.0, 2.0, 3.0], [0.0, 0.0, -np.inf]])
    cold = gumbel_softmax(z, 1e-300, rng=np.random.default_rng(0))
    assert cold.dtype == np.float32 and np.all(cold.sum(axis=-1) == 1) and np.all(np.isin(cold, [0, 1]))
    hot = gumbel_softmax(z, 1e300, rng=np.random.default_rng(0))
    np.testing.assert_allclose(hot, [[1 / 3] * 3, [0.5, 0.5, 0.0]], rtol=1e-6)


@given(vectors(np.float64, bound=5.0, min_size=2, max_size=5), st.floats(0.2, 5.0), seeds)
def test_jacobian_is_the_tempered_softmax_jacobian(z, tau, seed):
    """For fixed noise, d/dz softmax((z + g)/tau) = J((z + g)/tau) / tau (chapter 1's temperature
    rule): the same seed on every call of the finite difference fixes g."""
    g = noise_for(seed, z.shape)

    def sample(x):
        return gumbel_softmax(x, tau, rng=np.random.default_rng(seed))

    numeric = sn.numerical_jacobian(sample, z)
    np.testing.assert_allclose(numeric, sn.softmax_jacobian((z + g) / tau) / tau, rtol=0, atol=1e-8)


# --------------------------------------------------------------------------------------------------
# the hard sample
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@given(data=st.data(), tau=taus, seed=seeds)
def test_hard_is_the_one_hot_of_the_soft_samples_argmax(dtype, data, tau, seed):
    """The one-hot of argmax (z + g) in the working dtype; that is the soft sample's argmax
    wherever the soft sample's largest entry is unique (rounding can tie it, see below)."""
    z = data.draw(logit_arrays(dtype, bound=100.0))
    soft = gumbel_softmax(z, tau, rng=np.random.default_rng(seed))
    hard = gumbel_softmax(z, tau, rng=np.random.default_rng(seed), hard=True)
    assert hard.shape == z.shape and hard.dtype == dtype
    work = np.float32 if dtype == np.float16 else dtype
    perturbed = z.astype(work) + noise_for(seed, z.shape).astype(work)
    expected = np.zeros_like(soft)
    np.put_along_axis(expected, np.argmax(perturbed, axis=-1)[..., None], 1, axis=-1)
    np.testing.assert_array_equal(hard, expected)
    unique_top = (soft == soft.max(axis=-1, keepdims=True)).sum(axis=-1) == 1
    np.testing.assert_array_equal(np.argmax(hard, axis=-1)[unique_top],
                                  np.argmax(soft, axis=-1)[unique_top])
    assert np.all(hard.sum(axis=-1) == 1) and np.all(np.isin(hard, [0, 1]))


@given(vectors(np.float64, bound=20.0, min_size=1, max_size=6), taus, seeds)
def test_hard_sample_is_the_gumbel_max_class(z, tau, seed):
    hard = gumbel_softmax(z, tau, rng=np.random.default_rng(seed), hard=True)
    assert np.argmax(hard) == np.argmax(z + noise_for(seed, z.shape))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gumbel_max_frequencies_chi_square(seed):
    """argmax(z + g) is distributed as softmax(z): counts of 20000 seeded hard samples against the
    expected counts. The p-value for these seeds is fixed; a wrong noise (see below) fails."""
    z = np.array([1.0, 0.0, -0.5, 2.0, -1.0])
    draws = 20_000
    hard = gumbel_softmax(np.tile(z, (draws, 1)), 0.5, rng=np.random.default_rng(seed), hard=True)
    counts = hard.sum(axis=0)
    assert counts.sum() == draws
    statistic, p_value = chisquare(counts, draws * sn.softmax(z))
    assert p_value > 0.01, (statistic, p_value)


def test_chi_square_rejects_a_sign_error_in_the_noise():
    """The check above has power: with -g instead of g (log(-log U) instead of -log(-log U)),
    argmax(z - g) is not softmax-distributed and the test rejects it by far."""
    z = np.array([1.0, 0.0, -0.5, 2.0, -1.0])
    draws = 20_000
    wrong = np.argmax(z - np.random.default_rng(0).gumbel(size=(draws, 5)), axis=1)
    counts = np.bincount(wrong, minlength=5)
    _, p_value = chisquare(counts, draws * sn.softmax(z))
    assert p_value < 1e-10


def test_minus_inf_class_is_never_sampled():
    z = np.tile([0.0, -np.inf, 1.0], (2000, 1))
    soft = gumbel_softmax(z, 0.7, rng=np.random.default_rng(4))
    hard = gumbel_softmax(z, 0.7, rng=np.random.default_rng(4), hard=True)
    assert np.all(soft[:, 1] == 0) and np.all(hard[:, 1] == 0)
    assert np.all(hard[:, [0, 2]].sum(axis=0) > 0)


# --------------------------------------------------------------------------------------------------
# reproducibility, shapes, dtypes
# --------------------------------------------------------------------------------------------------


def test_same_seed_same_sample_different_seed_different_sample():
    z = np.array([[0.5, 0.1, -0.3], [2.0, 2.0, 2.0]])
    first = gumbel_softmax(z, 0.5, rng=np.random.default_rng(11))
    again = gumbel_softmax(z, 0.5, rng=np.random.default_rng(11))
    other = gumbel_softmax(z, 0.5, rng=np.random.default_rng(12))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_generator_advances_and_rows_get_their_own_noise():
    rng = np.random.default_rng(5)
    z = np.zeros((4, 3))
    first, second = gumbel_softmax(z, rng=rng), gumbel_softmax(z, rng=rng)
    assert not np.array_equal(first, second)
    assert len({tuple(row) for row in first}) == 4  # identical logits, different noise per row


@pytest.mark.parametrize("value,dtype", [
    (np.float16([1.0, 0.5]), np.float16), (np.float32([1.0, 0.5]), np.float32),
    (np.float64([1.0, 0.5]), np.float64), ([1, 0, 2], np.float64), (np.array([True, False]), np.float64),
])
@pytest.mark.parametrize("hard", [False, True])
def test_dtype_rules_follow_softmax(value, dtype, hard):
    out = gumbel_softmax(value, rng=np.random.default_rng(0), hard=hard)
    assert out.dtype == dtype == sn.softmax(value).dtype


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4)])
def test_empty_input(shape):
    assert gumbel_softmax(np.zeros(shape), rng=np.random.default_rng(0)).shape == shape
    assert gumbel_softmax(np.zeros(shape), rng=np.random.default_rng(0), hard=True).shape == shape


def test_tau_accepts_numpy_scalars_and_integers():
    z = np.array([0.3, 0.1])
    reference = gumbel_softmax(z, 2.0, rng=np.random.default_rng(0))
    for tau in (2, np.float32(2.0), np.int64(2), np.array(2.0)):
        np.testing.assert_array_equal(gumbel_softmax(z, tau, rng=np.random.default_rng(0)), reference)


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
def test_bad_z(bad):
    with pytest.raises(ERRORS, match=r"\bz\b"):
        gumbel_softmax(bad, rng=np.random.default_rng(0))


@pytest.mark.parametrize("z", [2.0, np.float32(1.0), [np.nan, 0.0], [np.inf, 0.0],
                               [-np.inf, -np.inf], [[0.0, 1.0], [-np.inf, -np.inf]]],
                         ids=["0-d", "0-d float32", "nan", "+inf", "all -inf", "an all -inf row"])
def test_bad_z_values(z):
    with pytest.raises(ValueError, match=r"\bz\b"):
        gumbel_softmax(z, rng=np.random.default_rng(0))


BAD_TAUS = {"0": 0, "0.0": 0.0, "-0.0": -0.0, "negative": -1.0, "nan": np.nan, "inf": np.inf,
            "-inf": -np.inf, "huge int": 10**400, "string": "1.0", "None": None, "complex": 1j,
            "True": True, "np.True_": np.True_, "list": [1.0], "array": np.array([1.0, 2.0]),
            "complex array": np.array(1j), "object": object()}


@pytest.mark.parametrize("tau", list(BAD_TAUS.values()), ids=list(BAD_TAUS))
def test_bad_tau(tau):
    with pytest.raises(ERRORS, match=r"\btau\b"):
        gumbel_softmax([0.0, 1.0], tau, rng=np.random.default_rng(0))


@pytest.mark.parametrize("tau", [0.0, -1.0, np.nan, np.inf])
def test_bad_tau_value_is_a_value_error(tau):
    with pytest.raises(ValueError, match=r"\btau\b"):
        gumbel_softmax([0.0, 1.0], tau, rng=np.random.default_rng(0))


BAD_RNGS = {"None": None, "int seed": 42, "RandomState": np.random.RandomState(0),
            "the np.random module": np.random, "a BitGenerator": np.random.PCG64(0),
            "string": "rng", "SeedSequence": np.random.SeedSequence(0)}


@pytest.mark.parametrize("rng", list(BAD_RNGS.values()), ids=list(BAD_RNGS))
def test_bad_rng(rng):
    with pytest.raises(TypeError, match=r"\brng\b"):
        gumbel_softmax([0.0, 1.0], rng=rng)


def test_rng_is_required_and_keyword_only():
    with pytest.raises(TypeError, match=r"\brng\b"):
        gumbel_softmax([0.0, 1.0])
    with pytest.raises(TypeError):
        gumbel_softmax([0.0, 1.0], 1.0, np.random.default_rng(0))  # positional rng


@pytest.mark.parametrize("hard", [1, 0, "True", None, 1.0, [True]], ids=repr)
def test_bad_hard(hard):
    with pytest.raises(TypeError, match=r"\bhard\b"):
        gumbel_softmax([0.0, 1.0], rng=np.random.default_rng(0), hard=hard)


# --------------------------------------------------------------------------------------------------
# the hard sample is the Gumbel-max class at every temperature and in every dtype (review of ch. 10)
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tau", [1e3, 1e20, 1e300])
def test_hard_sample_does_not_depend_on_tau(tau):
    """argmax softmax((z + g)/tau) = argmax (z + g) for every tau > 0. The argmax of the *rounded*
    soft sample loses that at a large tau, where every probability rounds to 1/n (then the first
    class would always win)."""
    z = np.tile([0.0, 1.0, 2.0], (2000, 1))
    hard = gumbel_softmax(z, tau, rng=np.random.default_rng(3), hard=True)
    expected = np.argmax(z + noise_for(3, z.shape), axis=-1)
    np.testing.assert_array_equal(np.argmax(hard, axis=-1), expected)


def test_hard_sample_in_float16_is_the_gumbel_max_class():
    """float16 logits are perturbed in float32 (the working dtype): the hard sample is the argmax of
    that sum, not of the float16 soft sample, whose rounding ties favour the first class."""
    z = np.tile(np.array([0.0, 0.01, 0.02], dtype=np.float16), (50_000, 1))
    hard = gumbel_softmax(z, 30.0, rng=np.random.default_rng(0), hard=True)
    assert hard.dtype == np.float16
    perturbed = z.astype(np.float32) + noise_for(0, z.shape).astype(np.float32)
    np.testing.assert_array_equal(np.argmax(hard, axis=-1), np.argmax(perturbed, axis=-1))
