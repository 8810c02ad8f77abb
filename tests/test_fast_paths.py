"""The fast paths of softmaxnotes.stable (blocks of short rows copied transposed, blocked
log-sum-exp on large arrays) give the same numbers as the plain formulas.

They only run on arrays of at least a few hundred rows or a few MiB, which the other tests rarely
build. Chapter 6 relies on ``sn.softmax`` being exactly exp(z - max) / sum(exp(z - max)).
"""

from __future__ import annotations

import numpy as np
import pytest

import softmaxnotes as sn

SHAPES = [(300, 3), (1000, 10), (513, 24), (600, 48), (257, 100), (40, 70000)]


def reference_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=-1, keepdims=True)
    e = np.exp(z - m)
    return e / e.sum(axis=-1, keepdims=True)


def max_and_log1p_rest(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """m and log1p(sum of the other terms), the first maximum's term left out (finite rows)."""
    k = np.argmax(z, axis=-1)[:, None]
    m = np.take_along_axis(z, k, axis=-1)
    e = np.exp(z - m)
    np.put_along_axis(e, k, 0, axis=-1)
    return m, np.log1p(e.sum(axis=-1, keepdims=True))


def logits(shape: tuple[int, int], dtype: type, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * 5).astype(dtype)
    z[::7, 0] = z[::7, -1]  # ties of the maximum in some rows
    z[::11] = np.round(z[::11])  # many exact ties
    return z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_fast_softmax_is_exactly_the_shifted_formula(shape, dtype):
    z = logits(shape, dtype, seed=shape[0] + shape[1])
    result = sn.softmax(z)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, reference_softmax(z))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_fast_logsumexp_and_log_softmax_match_the_log1p_formula(shape, dtype):
    z = logits(shape, dtype, seed=2 * shape[0] + shape[1])
    m, log1p_rest = max_and_log1p_rest(z)
    lse = (m + log1p_rest)[:, 0]
    assert np.all(np.abs(sn.logsumexp(z) - lse) <= 2 * np.spacing(np.abs(lse)))
    reference = (z - m) - log1p_rest  # the package's log_softmax formula
    assert np.all(np.abs(sn.log_softmax(z) - reference) <= 2 * np.spacing(np.abs(reference)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_paths_keep_the_edge_cases_of_each_row_to_that_row(dtype):
    """-inf, +inf and nan rows inside a large batch of short rows: each row as the small path
    computes it alone."""
    z = logits((1000, 10), dtype, seed=5)
    z[3, 2] = -np.inf
    z[10, :] = -np.inf
    z[20, 4] = np.inf
    z[30, 1] = np.nan
    for function in (sn.softmax, sn.log_softmax, sn.logsumexp):
        batch = function(z)
        for row in (3, 10, 20, 30, 40):
            np.testing.assert_array_equal(batch[row], function(z[row]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_cross_entropy_grad_matches_small_batches(dtype):
    z = logits((2000, 10), dtype, seed=9)
    target = np.random.default_rng(9).integers(0, 10, size=2000)
    batch = sn.cross_entropy_grad(z, target)
    for row in (0, 1, 999, 1999):
        np.testing.assert_array_equal(batch[row], sn.cross_entropy_grad(z[row], int(target[row])))
    assert np.all(batch[np.arange(2000), target] <= 0) and np.all(batch[np.arange(2000), target] >= -1)
