"""blocked_attention: the online forward pass over key blocks agrees with attention on random
shapes, masks and block sizes (hypothesis), including whole masked blocks and fully masked rows;
its log-sum-exp; huge scores; and its memory, which grows with n_q * block instead of n_q * n.

Agreement is measured in units of eps * scale_ij with the scale of test_attention_reference.py
(which counts the rescalings of the blocked pass); both results are also within one unit of the
80-digit reference.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from softmaxnotes import attention, blocked_attention, logsumexp
from softmaxnotes.blocked_attention import DEFAULT_BLOCK
from test_attention_reference import attention_inputs, error_units, mp_attention


def rng():
    return np.random.default_rng(13)


def difference_units(blocked, reference, q, k, v, mask, scale, block, dtype):
    """|blocked - reference| in units of eps * scale_ij: the error_units of `blocked` with the
    reference replaced by `reference` (via its exact values as the 'exact' answer)."""
    ref, batch = mp_attention(q, k, v, mask, scale)
    import mpmath
    with mpmath.workdps(80):
        reference = np.broadcast_to(reference, batch + np.shape(reference)[-2:])
        for index, rows in ref.items():
            for i, row in enumerate(rows):
                row["O"] = [mpmath.mpf(float(x)) for x in reference[index][i]]
    n_blocks = max(1, math.ceil(k.shape[-2] / block))
    return error_units(blocked, q, k, v, mask, scale, n_blocks=n_blocks, dtype=dtype,
                       reference=(ref, batch))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_agrees_with_attention_on_random_shapes_masks_and_blocks(dtype, data):
    q, k, v, mask, scale = data.draw(attention_inputs(dtype, bound=4.0, max_n=9))
    block = data.draw(st.integers(1, 10))
    blocked = blocked_attention(q, k, v, mask, scale, block)
    reference = attention(q, k, v, mask, scale)
    assert blocked.dtype == reference.dtype == dtype and blocked.shape == reference.shape
    assert difference_units(blocked, reference, q, k, v, mask, scale, block, dtype) <= 1
    n_blocks = max(1, math.ceil(k.shape[-2] / block))
    assert error_units(blocked, q, k, v, mask, scale, n_blocks=n_blocks, dtype=dtype) <= 1


@given(attention_inputs(np.float32, bound=100.0, max_n=9), st.integers(1, 10), st.floats(10.0, 1e3))
def test_huge_scores_float32(case, block, scale):
    q, k, v, mask, _ = case
    blocked = blocked_attention(q, k, v, mask, scale, block)
    assert np.all(np.isfinite(blocked))
    n_blocks = max(1, math.ceil(k.shape[-2] / block))
    assert error_units(blocked, q, k, v, mask, scale, n_blocks=n_blocks, dtype=np.float32) <= 1


@pytest.mark.parametrize("block", [1, 2, 3, 4, 7, 8, 100])
def test_whole_masked_blocks_and_fully_masked_rows(block):
    """Key blocks of size 2 that are entirely masked, at the start (running max -inf: the guard),
    in the middle and at the end; one row that is masked everywhere."""
    g = rng()
    q, k, v = g.normal(size=(4, 3)), g.normal(size=(8, 3)), g.normal(size=(8, 2))
    mask = np.ones((4, 8), bool)
    mask[:, 0:2] = False           # the first block, for every row
    mask[1, 4:6] = False           # a middle block
    mask[2, :6] = False            # row 2: allowed only in the last block
    mask[3] = False                # fully masked
    blocked, lse = blocked_attention(q, k, v, mask, block=block, return_lse=True)
    reference = attention(q, k, v, mask)
    assert not np.isnan(blocked).any()
    np.testing.assert_allclose(blocked, reference, rtol=1e-14, atol=1e-15)
    assert np.array_equal(blocked[3], [0.0, 0.0]) and lse[3] == -np.inf


def test_one_block_and_one_key_per_block():
    g = rng()
    q, k, v = g.normal(size=(5, 4)), g.normal(size=(11, 4)), g.normal(size=(11, 3))
    reference = attention(q, k, v)
    for block in (1, 5, 11, 12, DEFAULT_BLOCK):
        np.testing.assert_allclose(blocked_attention(q, k, v, block=block), reference,
                                   rtol=1e-14, atol=1e-15)


def test_maximum_arriving_in_a_later_block_rescales_the_accumulator():
    """Scores increasing along the keys: every block raises the running maximum, so a pass that
    forgot to rescale the output accumulator by e^(m_old - m_new) would be far off."""
    k = np.arange(12.0)[:, None]
    v = np.arange(24.0).reshape(12, 2)
    q = np.array([[1.0], [0.5]])
    reference = attention(q, k, v, scale=1.0)
    np.testing.assert_allclose(blocked_attention(q, k, v, scale=1.0, block=3), reference, rtol=1e-14)


def test_logsumexp_per_row():
    g = rng()
    q, k, v = g.normal(size=(2, 5, 3)), g.normal(size=(2, 9, 3)), g.normal(size=(2, 9, 2))
    mask = g.random((2, 5, 9)) < 0.6
    mask[1, 2] = False
    out, lse = blocked_attention(q, k, v, mask, block=4, return_lse=True)
    assert lse.shape == (2, 5)
    scores = np.where(mask, q @ np.swapaxes(k, -1, -2) / np.sqrt(3), -np.inf)
    with np.errstate(invalid="ignore"):
        expected = logsumexp(scores, axis=-1)
    np.testing.assert_allclose(lse, expected, rtol=1e-14, atol=1e-14)
    assert lse[1, 2] == -np.inf
    np.testing.assert_array_equal(out, blocked_attention(q, k, v, mask, block=4))


def test_lse_lets_the_backward_recompute_p():
    """P = exp(S - lse), without storing P: the same probabilities as the softmax."""
    g = rng()
    q, k, v = g.normal(size=(4, 3)), g.normal(size=(10, 3)), g.normal(size=(10, 2))
    _, lse = blocked_attention(q, k, v, block=3, return_lse=True)
    scores = q @ k.T / np.sqrt(3)
    p = np.exp(scores - lse[:, None])
    np.testing.assert_allclose(p @ v, attention(q, k, v), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_lse_dtype_follows_the_output(dtype):
    q, k, v = np.ones((2, 2), dtype), np.ones((3, 2), dtype), np.ones((3, 1), dtype)
    out, lse = blocked_attention(q, k, v, return_lse=True)
    assert out.dtype == lse.dtype == dtype
    np.testing.assert_allclose(lse.astype(float), 1 / np.sqrt(2) * 2 + np.log(3), rtol=1e-3)


def test_huge_scores_one_hot():
    g = rng()
    q, k, v = (g.normal(size=s).astype(np.float32) for s in ((4, 8), (20, 8), (20, 3)))
    out = blocked_attention(q, k, v, scale=1e4, block=3)
    winners = np.argmax(q.astype(float) @ k.astype(float).T, axis=1)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, v[winners])


def test_batch_axes_broadcast():
    g = rng()
    q = g.normal(size=(2, 1, 3, 4))
    k = g.normal(size=(7, 4))
    v = g.normal(size=(1, 3, 7, 2))
    mask = g.random((3, 7)) < 0.7
    out = blocked_attention(q, k, v, mask, block=2)
    assert out.shape == (2, 3, 3, 2)
    np.testing.assert_allclose(out, attention(q, k, v, mask), rtol=1e-14, atol=1e-15)


def peak_bytes(function, *args, **kwargs):
    tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_grows_with_the_block_not_with_n():
    """The reference holds whole n_q x n matrices of scores; the blocked pass only n_q x block ones
    (and the output). With n_q = 64, n = 8192 and block = 64 the score matrix is 4 MiB in float64."""
    g = rng()
    n_q, n, d, block = 64, 8192, 8, 64
    q, k, v = g.normal(size=(n_q, d)), g.normal(size=(n, d)), g.normal(size=(n, d))
    score_matrix = n_q * n * 8
    full = peak_bytes(attention, q, k, v)
    blocked = peak_bytes(blocked_attention, q, k, v, block=block)
    assert full >= score_matrix
    assert blocked <= 16 * n_q * block * 8 + 4 * n_q * d * 8
    assert blocked * 10 <= full
    # doubling n doubles the reference's peak and leaves the blocked one where it was
    k2, v2 = np.vstack([k, k]), np.vstack([v, v])
    assert peak_bytes(attention, q, k2, v2) >= 1.9 * full
    assert peak_bytes(blocked_attention, q, k2, v2, block=block) <= 1.1 * blocked
