"""An mpmath reference for the attention tests, and hypothesis strategies for attention inputs.

The reference computes O = softmax(s Q K^T) V over the allowed keys at 80 significant digits, from
the exact values of the float inputs; a row with no allowed key gives zeros. It loops in Python,
so it is meant for the small shapes the strategies draw.

Error scale. The tests measure an error of O_ij in units of ``eps * scale_ij`` (``eps`` the
machine epsilon of the dtype) with

    scale_ij = sum_k P_ik |V_kj| (2 (d + 2) Shat_i + 2 |S_ik - m_i| + n + 2 n_blocks + 6),

where Shat_i = max_k s sum_p |q_ip k_kp| over the allowed keys and m_i = max_k S_ik. Each term of
the bound is one rounding source: the dot products and the scaling give every S_ik an error of at
most (d + 1) u Shat_i, which moves every P_ik by a relative 2 (d + 1) u Shat_i; ``S_ik - m_i`` and
its exponential add u (|S_ik - m_i| + 1); the blocked pass rescales a term at most n_blocks times,
each rescale adding about u (|m_old - m_new| + 1) (the differences sum to at most |S_ik - m_i|);
the normaliser and the product P V are sums of n terms. One unit is one to two ulps of the scale.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MP_DPS = 80


def _mp(x) -> mpmath.mpf:
    return mpmath.mpf(float(x))


def broadcast_inputs(q, k, v, mask):
    """q, k, v and the mask broadcast to one batch shape, as float64/bool arrays."""
    q, k, v = (np.asarray(x) for x in (q, k, v))
    batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2],
                                () if mask is None else np.shape(mask)[:-2])
    n_q, n = q.shape[-2], k.shape[-2]
    qb = np.broadcast_to(q, batch + q.shape[-2:])
    kb = np.broadcast_to(k, batch + k.shape[-2:])
    vb = np.broadcast_to(v, batch + v.shape[-2:])
    mb = np.ones(batch + (n_q, n), bool) if mask is None else np.broadcast_to(mask, batch + (n_q, n))
    return qb, kb, vb, mb, batch


def mp_attention(q, k, v, mask=None, scale=None):
    """Exact (80-digit) attention: returns (O, P, S, lse) as nested dicts keyed by batch index,
    each an mpmath matrix (lists), plus the batch shape. ``lse`` is -inf for a fully masked row."""
    qb, kb, vb, mb, batch = broadcast_inputs(q, k, v, mask)
    d = qb.shape[-1]
    result = {}
    with mpmath.workdps(MP_DPS):
        s = mpmath.mpf(1) / mpmath.sqrt(d) if scale is None else _mp(scale)
        for index in np.ndindex(batch):
            Q, K, V, M = qb[index], kb[index], vb[index], mb[index]
            n_q, n, d_v = Q.shape[0], K.shape[0], V.shape[1]
            rows = []
            for i in range(n_q):
                allowed = [kk for kk in range(n) if M[i, kk]]
                S = {kk: s * mpmath.fsum(_mp(Q[i, p]) * _mp(K[kk, p]) for p in range(d))
                     for kk in allowed}
                Shat = {kk: s * mpmath.fsum(abs(_mp(Q[i, p]) * _mp(K[kk, p])) for p in range(d))
                        for kk in allowed}
                if not allowed:
                    rows.append({"O": [mpmath.mpf(0)] * d_v, "P": {}, "S": {}, "lse": -mpmath.inf,
                                 "m": -mpmath.inf, "Shat": 0})
                    continue
                m = max(S.values())
                total = mpmath.fsum(mpmath.exp(S[kk] - m) for kk in allowed)
                P = {kk: mpmath.exp(S[kk] - m) / total for kk in allowed}
                O = [mpmath.fsum(P[kk] * _mp(V[kk, j]) for kk in allowed) for j in range(d_v)]
                rows.append({"O": O, "P": P, "S": S, "lse": m + mpmath.log(total), "m": m,
                             "Shat": max(Shat.values())})
            result[index] = rows
    return result, batch


def error_units(ours, q, k, v, mask=None, scale=None, n_blocks=1, dtype=np.float64,
                reference=None):
    """Largest error of ``ours`` (shape batch + (n_q, d_v)) against ``mp_attention``, in units of
    ``eps * scale_ij`` (module docstring), plus 4 smallest subnormals for entries that underflow.
    Fully masked rows must be exactly zero (else the error is inf)."""
    ref, batch = reference if reference is not None else mp_attention(q, k, v, mask, scale)
    ours = np.broadcast_to(ours, batch + np.shape(ours)[-2:])
    info = np.finfo(dtype)
    n = np.shape(k)[-2]
    d = np.shape(q)[-1]
    vb = broadcast_inputs(q, k, v, mask)[2]
    worst = 0.0
    with mpmath.workdps(MP_DPS):
        for index, rows in ref.items():
            for i, row in enumerate(rows):
                for j, exact in enumerate(row["O"]):
                    value = ours[index][i, j]
                    if not row["P"]:
                        if value != 0:
                            return math.inf
                        continue
                    if not np.isfinite(value):
                        return math.inf
                    scale_ij = mpmath.fsum(
                        pk * abs(_mp(vb[index][kk, j]))
                        * (2 * (d + 2) * row["Shat"] + 2 * abs(row["S"][kk] - row["m"])
                           + n + 2 * n_blocks + 6)
                        for kk, pk in row["P"].items())
                    bound = _mp(info.eps) * scale_ij + 4 * _mp(info.smallest_subnormal)
                    worst = max(worst, float(abs(_mp(value) - exact) / bound))
    return worst


# --------------------------------------------------------------------------------------------------
# Hypothesis strategies
# --------------------------------------------------------------------------------------------------


@st.composite
def attention_inputs(draw, dtype=np.float64, bound=3.0, max_n=7, with_mask=True, min_n=1):
    """(q, k, v, mask, scale): batch of 0..2 axes (q, k, v and mask each broadcastable: some have
    size-1 or missing batch axes), n_q 1..4, n min_n..max_n, d 1..4, d_v 1..3; entries in
    [-bound, bound]; a random boolean mask (or None) that may mask whole rows; scale None or in
    [0.1, 4]."""
    batch = draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    n_q = draw(st.integers(1, 4))
    n = draw(st.integers(min_n, max_n))
    d = draw(st.integers(1, 4))
    d_v = draw(st.integers(1, 3))
    width = np.finfo(dtype).bits
    elements = st.floats(-bound, bound, allow_nan=False, allow_infinity=False, width=width)

    def own_batch():
        # drop leading axes or set some to 1: every array broadcasts to `batch`
        keep = draw(st.integers(0, len(batch)))
        axes = batch[len(batch) - keep:]
        return tuple(draw(st.sampled_from([1, size])) for size in axes)

    q = draw(hnp.arrays(dtype, own_batch() + (n_q, d), elements=elements))
    k = draw(hnp.arrays(dtype, own_batch() + (n, d), elements=elements))
    v = draw(hnp.arrays(dtype, own_batch() + (n, d_v), elements=elements))
    # the full batch must appear somewhere: give it to q if no array has it
    full = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
    mask = None
    if with_mask and draw(st.booleans()):
        mask_shape = own_batch() + (draw(st.sampled_from([1, n_q])), n)
        mask = draw(hnp.arrays(np.bool_, mask_shape))
        full = np.broadcast_shapes(full, mask.shape[:-2])
    if full != batch:
        q = np.broadcast_to(q, batch + q.shape[-2:]).copy()
    scale = draw(st.one_of(st.none(), st.floats(0.1, 4.0)))
    return q, k, v, mask, scale


# --------------------------------------------------------------------------------------------------
# Tests of the reference itself (so that the other test files may trust it)
# --------------------------------------------------------------------------------------------------


def test_reference_on_a_hand_example():
    """Two keys with scores 0 and log 3 (s = 1): P = (1/4, 3/4), O = P V."""
    q = np.array([[1.0]])
    k = np.array([[0.0], [math.log(3.0)]])
    v = np.array([[4.0, 0.0], [0.0, 8.0]])
    ref, batch = mp_attention(q, k, v, scale=1.0)
    assert batch == ()
    row = ref[()][0]
    assert abs(row["P"][0] - mpmath.mpf(1) / 4) < 1e-15
    assert abs(row["O"][0] - 1) < 1e-15 and abs(row["O"][1] - 6) < 1e-15
    assert abs(row["lse"] - math.log(4.0)) < 1e-15


def test_reference_gives_zeros_for_a_fully_masked_row():
    q, k, v = np.ones((2, 3)), np.ones((4, 3)), np.arange(8.0).reshape(4, 2)
    mask = np.array([[True, False, True, False], [False] * 4])
    ref, _ = mp_attention(q, k, v, mask)
    assert ref[()][1]["O"] == [0, 0] and ref[()][1]["lse"] == -mpmath.inf
    # the allowed keys 0 and 2 have equal scores: the average of their values
    assert [float(x) for x in ref[()][0]["O"]] == [2.0, 3.0]


def test_error_units_flags_a_wrong_answer_and_a_nonzero_masked_row():
    q, k, v = np.ones((1, 2)), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([[1.0], [3.0]])
    assert error_units(np.array([[2.0]]), q, k, v) < 1
    assert error_units(np.array([[2.0 + 1e-9]]), q, k, v) > 1e3
    mask = np.array([[False, False]])
    assert error_units(np.array([[0.0]]), q, k, v, mask) == 0
    assert error_units(np.array([[1e-300]]), q, k, v, mask) == math.inf




@given(attention_inputs())
def test_strategy_gives_broadcastable_inputs(case):
    q, k, v, mask, scale = case
    qb, kb, vb, mb, batch = broadcast_inputs(q, k, v, mask)
    assert qb.shape[-1] == kb.shape[-1] and kb.shape[-2] == vb.shape[-2]
    assert mb.shape == batch + (q.shape[-2], k.shape[-2])
    assert scale is None or 0.1 <= scale <= 4.0
