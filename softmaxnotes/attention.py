"""Scaled dot-product attention, the reference forward pass.

Derived in chapter 9, "Softmax in attention". With queries Q (n_q x d), keys K (n x d) and values
V (n x d_v), and a boolean mask M (True = query i may attend to key k):

    S = s Q K^T,   P = softmax(S) row by row over the allowed keys,   O = P V,

with the scale s = 1/sqrt(d) by default. Masked scores are set to -inf, so their probabilities
are exactly 0; the softmax is :func:`softmaxnotes.softmax`, shifted by each row's maximum, so
scores of 1e4 or more do not overflow. A query row with no allowed key has no distribution to
average with: its row of P, and so its output, is defined as zeros (the "safe" softmax), where the
plain formula would give 0/0 = nan.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._attention_inputs import AttentionInputs, check_inputs
from .stable import softmax


def scores(inputs: AttentionInputs) -> np.ndarray:
    """``S = s Q K^T`` with masked entries set to ``-inf``, shape (..., n_q, n): the batch axes
    of q, k and the mask broadcast (those of v join in the product ``P V``).

    The product is formed first and then scaled, ``(Q K^T) s``, in the working dtype; the blocked
    forward (:mod:`softmaxnotes.blocked_attention`) forms each block of keys the same way.
    """
    product = np.matmul(inputs.q, np.swapaxes(inputs.k, -1, -2))
    product = np.multiply(product, inputs.scale, out=product)
    if inputs.mask is not None:
        product = np.where(inputs.mask, product, -np.inf)
    return product


def probabilities(inputs: AttentionInputs) -> tuple[np.ndarray, np.ndarray]:
    """``P = softmax(S)`` row by row, with zero rows where no key is allowed; and the scores ``S``.

    A row of ``S`` that is all ``-inf`` (every key masked) has maximum ``-inf`` and softmax gives
    nan there (``-inf - (-inf)``); those rows, and only those, are set to zero. A nan coming from
    the inputs themselves stays nan. With no keys at all (n = 0) P is empty and ``P V`` is zeros.
    """
    s_masked = scores(inputs)
    p = softmax(s_masked, axis=-1)
    if inputs.mask is not None:
        empty = ~inputs.mask.any(axis=-1, keepdims=True)
        if empty.any():
            p = np.where(empty, p.dtype.type(0), p)
    return p, s_masked


def attention(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    mask: ArrayLike | None = None,
    scale: float | None = None,
) -> np.ndarray:
    r"""Scaled dot-product attention :math:`O = \operatorname{softmax}(s\, Q K^\top)\, V`.

    Derived in chapter 9, "Softmax in attention" (Vaswani et al. 2017). Row :math:`i` of the output
    is :math:`O_i = \sum_k P_{ik} V_k` with
    :math:`P_{ik} = e^{S_{ik}} / \sum_{k'} e^{S_{ik'}}`, :math:`S = s\, Q K^\top`, the sums running
    over the keys that row :math:`i` may attend to.

    Parameters
    ----------
    q : array_like, shape (..., n_q, d)
        Queries, one per row.
    k : array_like, shape (..., n, d)
        Keys, one per row.
    v : array_like, shape (..., n, d_v)
        Values, one per row (the row of key k).
    mask : array_like of bool, optional
        Broadcastable to (..., n_q, n); True where query i may attend to key k. The leading axes of
        q, k, v and mask broadcast against each other. A numeric mask is rejected (added to the
        scores or multiplied with the probabilities? it is ambiguous): pass ``mask=(m != 0)``.
    scale : float, optional
        The scale :math:`s`, positive and finite; default :math:`1/\sqrt{d}`.

    Returns
    -------
    ndarray, shape (..., n_q, d_v)
        In the common dtype of q, k and v (float32 stays float32; integers and bools give float64;
        float16 is computed in float32 and rounded once). A query row with no allowed key gives a
        row of zeros.
    """
    inputs = check_inputs(q, k, v, mask, scale)
    with np.errstate(all="ignore"):
        p, _ = probabilities(inputs)
        out = np.matmul(p, inputs.v)
    return out.astype(inputs.out_dtype, copy=False)
