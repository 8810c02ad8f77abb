"""The backward pass of scaled dot-product attention: gradients of Q, K and V.

Derived in chapter 9, "Softmax in attention", from the vector-Jacobian product of chapter 2, "The
Jacobian of softmax". With S = s Q K^T, P = softmax(S) row by row, O = P V and the upstream
gradient dO = dL/dO:

    dV = P^T dO,   dP = dO V^T,   dS = P * (dP - Delta),   dQ = s dS K,   dK = s dS^T Q,

where ``*`` is the element-wise product and Delta_i = sum_k P_ik dP_ik = sum_p O_ip dO_ip, one
number per query row. Row i of dS is chapter 2's J^T v = a * (v - (a . v) 1) with a = P_i and
v = dP_i (what :func:`softmaxnotes.softmax_vjp` computes); Delta is taken from O and dO, as fused
attention kernels do, because that needs no pass over P.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._attention_inputs import check_inputs, check_upstream, sum_to_shape
from ._validation import as_float_array
from .attention import probabilities


def attention_vjp(
    q: ArrayLike,
    k: ArrayLike,
    v: ArrayLike,
    d_out: ArrayLike,
    mask: ArrayLike | None = None,
    scale: float | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Vector-Jacobian product of :func:`softmaxnotes.attention`: ``(dq, dk, dv)``.

    Derived in chapter 9, "Softmax in attention". For a loss :math:`L` with
    :math:`\mathrm{d}O = \partial L / \partial O` (``d_out``):
    :math:`\mathrm{d}V = P^\top \mathrm{d}O`, :math:`\mathrm{d}P = \mathrm{d}O\, V^\top`,
    :math:`\mathrm{d}S = P \odot (\mathrm{d}P - \Delta \mathbf{1}^\top)` with
    :math:`\Delta_i = \sum_p O_{ip}\, \mathrm{d}O_{ip}` (equal to
    :math:`\sum_k P_{ik}\, \mathrm{d}P_{ik}`), :math:`\mathrm{d}Q = s\, \mathrm{d}S\, K` and
    :math:`\mathrm{d}K = s\, \mathrm{d}S^\top Q`.

    Parameters
    ----------
    q, k, v, mask, scale
        As for :func:`softmaxnotes.attention`.
    d_out : array_like, shape (..., n_q, d_v)
        The upstream gradient, of the output's shape (or broadcastable to it).

    Returns
    -------
    (dq, dk, dv) : ndarrays with the shapes of q, k and v
        Where an input was broadcast over batch axes, its gradient is summed over them. A query
        row with no allowed key has a constant output (zeros), so it contributes zero to every
        gradient. The dtype is the common dtype of q, k, v and d_out.
    """
    upstream = as_float_array(d_out, "d_out")
    inputs = check_inputs(q, k, v, mask, scale, upstream.dtype)
    with np.errstate(all="ignore"):
        p, _ = probabilities(inputs)
        out = np.matmul(p, inputs.v)
        d_o = check_upstream(upstream, out.shape).astype(out.dtype, copy=False)
        d_o = np.broadcast_to(d_o, out.shape)
        delta = np.sum(out * d_o, axis=-1, keepdims=True)            # Delta_i = rowsum(O * dO)
        d_p = np.matmul(d_o, np.swapaxes(inputs.v, -1, -2))           # dP = dO V^T
        d_s = p * (d_p - delta)                                       # dS = P * (dP - Delta)
        d_q = np.matmul(d_s, inputs.k) * inputs.scale                 # dQ = s dS K
        d_k = np.matmul(np.swapaxes(d_s, -1, -2), inputs.q) * inputs.scale  # dK = s dS^T Q
        d_v = np.matmul(np.swapaxes(p, -1, -2), d_o)                  # dV = P^T dO
    dtype = inputs.out_dtype
    return tuple(sum_to_shape(g, x.shape).astype(dtype, copy=False)
                 for g, x in ((d_q, inputs.q), (d_k, inputs.k), (d_v, inputs.v)))
