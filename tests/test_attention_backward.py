"""attention_vjp: against finite differences (float64, hypothesis), against chapter 2's VJP row by
row, the identity rowsum(P * dP) = rowsum(O * dO), fully masked rows, broadcasting (a broadcast in
the forward pass is a sum in the backward pass), huge scores in float32, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from softmaxnotes import (
    attention,
    attention_vjp,
    numerical_gradient,
    softmax,
    softmax_vjp,
)
from test_attention_reference import attention_inputs, broadcast_inputs


def rng():
    return np.random.default_rng(11)


def loss_gradients_by_finite_differences(q, k, v, d_out, mask, scale):
    """Central differences of L = sum(d_out * attention(q, k, v)) with respect to q, k and v."""
    def loss_of(which):
        def f(x):
            args = [q, k, v]
            args[which] = x
            return float(np.sum(d_out * attention(*args, mask=mask, scale=scale)))
        return f
    return [numerical_gradient(loss_of(i), x) for i, x in enumerate((q, k, v))]


def assert_close_to_finite_differences(analytic, numeric, scale_of_values):
    """Central differences with h ~ 6e-6 are good to about 1e-10 here; ask for 1e-7 of the size
    of the gradients (entries near zero make a purely relative check meaningless)."""
    for a, b in zip(analytic, numeric):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7 * scale_of_values)


@given(attention_inputs(np.float64, bound=2.0, max_n=5), st.data())
def test_vjp_matches_finite_differences(case, data):
    q, k, v, mask, scale = case
    out = attention(q, k, v, mask, scale)
    d_out = data.draw(hnp.arrays(np.float64, out.shape, elements=st.floats(-2, 2)))
    analytic = attention_vjp(q, k, v, d_out, mask, scale)
    numeric = loss_gradients_by_finite_differences(q, k, v, d_out, mask, scale)
    size = 1.0 + max(float(np.abs(g).max(initial=0)) for g in numeric)
    assert_close_to_finite_differences(analytic, numeric, size)


def test_vjp_matches_finite_differences_on_a_fixed_case():
    g = rng()
    q, k, v = g.normal(size=(2, 4, 3)), g.normal(size=(2, 6, 3)), g.normal(size=(2, 6, 2))
    mask = g.random((2, 4, 6)) < 0.7
    mask[0, 1] = False  # one fully masked row
    d_out = g.normal(size=(2, 4, 2))
    analytic = attention_vjp(q, k, v, d_out, mask)
    numeric = loss_gradients_by_finite_differences(q, k, v, d_out, mask, None)
    for a, b in zip(analytic, numeric):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_score_gradient_is_chapter_2_vjp_row_by_row():
    """dQ = s dS K with dS_i = J(S_i)^T dP_i, computed here with sn.softmax_vjp for every row."""
    g = rng()
    q, k, v = g.normal(size=(5, 4)), g.normal(size=(7, 4)), g.normal(size=(7, 3))
    d_out = g.normal(size=(5, 3))
    s = 0.5
    scores = s * q @ k.T
    d_p = d_out @ v.T
    d_s = np.stack([softmax_vjp(scores[i], d_p[i]) for i in range(5)])
    d_q, d_k, d_v = attention_vjp(q, k, v, d_out, scale=s)
    np.testing.assert_allclose(d_q, s * d_s @ k, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_k, s * d_s.T @ q, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_v, softmax(scores).T @ d_out, rtol=1e-12, atol=1e-14)


def test_delta_identity_rowsum_p_dp_equals_rowsum_o_do():
    g = rng()
    for _ in range(20):
        n_q, n, d_v = g.integers(1, 6, size=3)
        p = softmax(g.normal(size=(n_q, n)) * 2)
        v, d_out = g.normal(size=(n, d_v)), g.normal(size=(n_q, d_v))
        o, d_p = p @ v, d_out @ v.T
        np.testing.assert_allclose((p * d_p).sum(axis=1), (o * d_out).sum(axis=1),
                                   rtol=1e-12, atol=1e-13)


def test_fully_masked_rows_have_zero_gradients():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 3))
    mask = np.array([[True, False, True, False], [False] * 4, [True, False, False, False]])
    d_out = g.normal(size=(3, 3))
    d_q, d_k, d_v = attention_vjp(q, k, v, d_out, mask)
    assert np.array_equal(d_q[1], np.zeros(2))
    # key 3 is seen by no row, key 1 only... by nobody: zero gradients for both
    for key in (1, 3):
        assert np.array_equal(d_k[key], np.zeros(2)) and np.array_equal(d_v[key], np.zeros(3))
    # row 2 sees one key: P = 1 is constant in q, so dq of row 2 is zero, and dk too from it
    assert np.allclose(d_q[2], 0, atol=1e-15)
    everything = attention_vjp(q, k, v, d_out, np.zeros((3, 4), bool))
    for grad in everything:
        assert np.array_equal(grad, np.zeros_like(grad))
    # the gradient is that of a function that is constant in the masked row: finite differences
    numeric = loss_gradients_by_finite_differences(q, k, v, d_out, mask, None)
    for a, b in zip((d_q, d_k, d_v), numeric):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)


def test_no_keys_at_all_gives_zero_gradients():
    q = np.ones((3, 2))
    d_q, d_k, d_v = attention_vjp(q, np.ones((0, 2)), np.ones((0, 4)), np.ones((3, 4)))
    assert np.array_equal(d_q, np.zeros((3, 2))) and d_k.shape == (0, 2) and d_v.shape == (0, 4)


def test_gradients_of_broadcast_inputs_are_summed():
    g = rng()
    q = g.normal(size=(2, 1, 3, 4))
    k = g.normal(size=(5, 4))
    v = g.normal(size=(1, 3, 5, 2))
    mask = g.random((3, 5)) < 0.8
    d_out = g.normal(size=(2, 3, 3, 2))
    d_q, d_k, d_v = attention_vjp(q, k, v, d_out, mask)
    assert d_q.shape == q.shape and d_k.shape == k.shape and d_v.shape == v.shape
    qb, kb, vb, _, batch = broadcast_inputs(q, k, v, mask)
    sums = [np.zeros(qb.shape), np.zeros(kb.shape), np.zeros(vb.shape)]
    for index in np.ndindex(batch):
        for total, grad in zip(sums, attention_vjp(qb[index], kb[index], vb[index], d_out[index], mask)):
            total[index] += grad
    np.testing.assert_allclose(d_q, sums[0].sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_k, sums[1].sum(axis=(0, 1)), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d_v, sums[2].sum(axis=0, keepdims=True), rtol=1e-12, atol=1e-14)


def test_d_out_broadcasts_to_the_output():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 2))
    row = g.normal(size=(1, 2))
    for a, b in zip(attention_vjp(q, k, v, row), attention_vjp(q, k, v, np.repeat(row, 3, axis=0))):
        assert np.array_equal(a, b)


def test_vjp_is_linear_in_d_out():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 2))
    a, b = g.normal(size=(3, 2)), g.normal(size=(3, 2))
    for x, y, z in zip(attention_vjp(q, k, v, a), attention_vjp(q, k, v, b),
                       attention_vjp(q, k, v, 2 * a - 3 * b)):
        np.testing.assert_allclose(z, 2 * x - 3 * y, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_give_finite_gradients(dtype):
    """Scores of size 1e4: P is one-hot, so dS = 0 up to rounding and dV picks the winning keys."""
    g = rng()
    q, k, v = (g.normal(size=s).astype(dtype) for s in ((4, 8), (6, 8), (6, 3)))
    d_out = g.normal(size=(4, 3)).astype(dtype)
    d_q, d_k, d_v = attention_vjp(q, k, v, d_out, scale=1e4)
    assert all(x.dtype == dtype and np.all(np.isfinite(x)) for x in (d_q, d_k, d_v))
    winners = np.argmax(q.astype(float) @ k.astype(float).T, axis=1)
    expected_dv = np.zeros((6, 3))
    np.add.at(expected_dv, winners, d_out.astype(float))
    np.testing.assert_allclose(d_v, expected_dv, rtol=1e-6, atol=1e-6)
    # dS_i = P_i * (dP_i - Delta_i) is 0 off the winner (P = 0) and, on it, dP_ik - Delta_i is
    # a difference of two roundings of the same sum sum_j dO_ij V_kj: dQ and dK are rounding noise
    eps = np.finfo(dtype).eps
    noise = 1e4 * 2 * 8 * eps * float((np.abs(d_out) @ np.abs(v).T).max())
    assert np.abs(d_q).max() <= noise * np.abs(k).max()
    assert np.abs(d_k).max() <= noise * np.abs(q).max() * 4


def test_float32_gradients_close_to_float64():
    g = rng()
    q, k, v = (g.normal(size=s).astype(np.float32) for s in ((5, 4), (6, 4), (6, 3)))
    d_out = g.normal(size=(5, 3)).astype(np.float32)
    mask = g.random((5, 6)) < 0.7
    low = attention_vjp(q, k, v, d_out, mask)
    high = attention_vjp(*(x.astype(float) for x in (q, k, v, d_out)), mask)
    for a, b in zip(low, high):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_mixed_dtypes_promote_and_d_out_joins():
    q = np.ones((3, 2), np.float32)
    k, v = np.ones((4, 2), np.float32), np.ones((4, 2), np.float32)
    assert all(x.dtype == np.float32 for x in attention_vjp(q, k, v, np.ones((3, 2), np.float32)))
    assert all(x.dtype == np.float64 for x in attention_vjp(q, k, v, np.ones((3, 2))))
