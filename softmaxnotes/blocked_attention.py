"""The blocked (online) forward pass of attention: never more than one block of scores at a time.

Derived in chapter 9, "Softmax in attention", from the online softmax of chapter 6, "Softmax in
floating point" (Milakov & Gimelshein 2018; the FlashAttention forward, Dao et al. 2022). The keys
and values are read in blocks of ``block`` rows. For every query row the pass keeps the running
maximum m, the running denominator D and an unnormalised output o; after block l, with
m_new = max(m, max of the block's scores),

    D <- D e^(m - m_new) + sum_k e^(S_k - m_new),
    o <- o e^(m - m_new) + sum_k e^(S_k - m_new) V_k,

and at the end O = o / D and lse = m + log D. While every key seen so far is masked, m = -inf:
then D = 0 and o = 0, and the rescale factor e^(-inf - (-inf)) (nan in floating point) is taken as
0, as are the terms e^(S_k - m_new) of masked keys. A row that stays fully masked ends with D = 0
and gets output zeros and lse = -inf. Which rows are fully masked is read from the mask, not from
D = 0: a row whose allowed scores all overflow to -inf gets nan, as in
:func:`softmaxnotes.attention`, not a silent row of zeros.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._attention_inputs import check_block, check_inputs

DEFAULT_BLOCK = 128


def blocked_attention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    mask: ArrayLike | None = None,
    scale: float | None = None,
    block: int = DEFAULT_BLOCK,
    *,
    return_lse: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    r"""Attention :math:`O = \operatorname{softmax}(s\, Q K^\top) V`, computed over blocks of keys
    with the online rescaling of chapter 6.

    Derived in chapter 9, "Softmax in attention". For each query row and key block
    :math:`\ell`: :math:`m_\ell = \max(m_{\ell-1}, \max_{k \in \ell} S_k)`,
    :math:`D_\ell = D_{\ell-1} e^{m_{\ell-1} - m_\ell} + \sum_{k \in \ell} e^{S_k - m_\ell}`, the
    output accumulator is rescaled the same way, and after the last block :math:`\ell_{\max}`, :math:`O = \tilde o_{\ell_{\max}} / D_{\ell_{\max}}`. The guard for a
    running maximum of :math:`-\infty`: the rescale factor is 0 there (:math:`D = 0` anyway).
    Memory for the scores is O(n_q * block) instead of the O(n_q * n) of
    :func:`softmaxnotes.attention`, and the result agrees with it to a few ulps of
    :math:`\sum_k P_{ik} |V_{kp}|`, also for masked blocks and fully masked rows (zeros).

    Parameters
    ----------
    q, k, v, mask, scale
        As for :func:`softmaxnotes.attention`.
    block : int
        Number of keys per block, a positive integer (default 128).
    return_lse : bool
        Also return the per-row log-sum-exp of the allowed scores,
        :math:`\operatorname{lse}_i = m_{\ell_{\max}} + \log D_{\ell_{\max}}` (``-inf`` for a fully masked row), shape
        (..., n_q). Fused kernels keep it for the backward pass, which recomputes
        :math:`P = e^{S - \operatorname{lse}}` block by block instead of storing P.

    Returns
    -------
    ndarray of shape (..., n_q, d_v), or ``(out, lse)`` when ``return_lse`` is true.
    """
    inputs = check_inputs(q, k, v, mask, scale)
    step = check_block(block)
    if not isinstance(return_lse, (bool, np.bool_)):
        raise TypeError(f"return_lse must be True or False, got {return_lse!r}")
    q_arr, k_arr, v_arr, s = inputs.q, inputs.k, inputs.v, inputs.scale
    n_q, n, d_v = q_arr.shape[-2], k_arr.shape[-2], v_arr.shape[-1]
    dtype = q_arr.dtype
    running_max = np.full(inputs.batch + (n_q, 1), -np.inf, dtype)   # m_0 = -inf
    denominator = np.zeros(inputs.batch + (n_q, 1), dtype)           # D_0 = 0
    accumulator = np.zeros(inputs.batch + (n_q, d_v), dtype)         # o_0 = 0
    seen = np.zeros(inputs.batch + (n_q, 1), bool)                   # an allowed key read yet?
    with np.errstate(all="ignore"):
        for start in range(0, n, step):
            stop = min(start + step, n)
            k_block = k_arr[..., start:stop, :]
            v_block = v_arr[..., start:stop, :]
            s_block = np.matmul(q_arr, np.swapaxes(k_block, -1, -2))
            np.multiply(s_block, s, out=s_block)                     # the same (Q K^T) s as attention
            if inputs.mask is not None:
                allowed = inputs.mask[..., start:stop]
                s_block = np.where(allowed, s_block, -np.inf)
                seen = seen | allowed.any(axis=-1, keepdims=True)
            else:
                seen = np.ones_like(seen)
            new_max = np.maximum(running_max, s_block.max(axis=-1, keepdims=True))
            alive = new_max != -np.inf             # a score above -inf seen (or a nan, which must propagate)
            rescale = np.where(alive, np.exp(running_max - new_max), 0)
            terms = np.exp(s_block - new_max)
            if not alive.all():
                terms = np.where(alive, terms, 0)
            denominator = denominator * rescale + terms.sum(axis=-1, keepdims=True)
            accumulator = accumulator * rescale + np.matmul(terms, v_block)
            running_max = new_max
        # no allowed key at all: zeros. Allowed keys whose scores are all -inf (overflow) leave
        # D = 0 too, and get 0/0 = nan, as in attention
        empty = ~seen
        out = np.where(empty, 0, accumulator / np.where(empty, 1, denominator))
        out = out.astype(inputs.out_dtype, copy=False)
        if not return_lse:
            return out
        lse = np.where(empty, -np.inf, running_max + np.log(denominator))[..., 0]
    return out, lse.astype(inputs.out_dtype, copy=False)
