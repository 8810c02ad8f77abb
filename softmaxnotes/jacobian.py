"""The Jacobian of softmax and its vector-Jacobian product.

Derived in chapter 2, "The Jacobian of softmax".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array
from .stable import softmax


def _complement(a: np.ndarray) -> np.ndarray:
    """``1 - a_i`` computed as ``sum_{j != i} a_j`` (a sum of non-negative terms, no cancellation)."""
    n = a.shape[-1]
    off_diagonal = ~np.eye(n, dtype=bool)
    return np.where(off_diagonal, a[..., np.newaxis, :], 0).sum(axis=-1)


def softmax_jacobian(z: ArrayLike) -> np.ndarray:
    r"""Jacobian of softmax, :math:`J_{ij} = \partial a_i / \partial z_j = a_i(\delta_{ij} - a_j)`.

    Derived in chapter 2, "The Jacobian of softmax": ``J = diag(a) - a a^T``. The two cases are
    ``J_ii = a_i (1 - a_i)`` and ``J_ij = -a_i a_j`` for ``i != j``.

    Every entry is accurate relative to its own size, also when one class holds nearly all the
    mass: ``1 - a_i`` is computed as ``sum_{j != i} a_j``, never by subtraction.

    Parameters
    ----------
    z : array_like, shape (..., n)
        Logits; softmax is taken along the last axis, leading axes are a batch.

    Returns
    -------
    ndarray, shape (..., n, n), dtype as :func:`softmaxnotes.softmax`.
    """
    array = as_float_array(z, "z")
    if array.ndim == 0:
        raise ValueError("z must have at least one dimension, shape (..., n)")
    a = softmax(array, axis=-1)
    jac = -a[..., :, np.newaxis] * a[..., np.newaxis, :]
    diagonal = a * _complement(a)
    idx = np.arange(a.shape[-1])
    jac[..., idx, idx] = diagonal
    return jac


def softmax_vjp(z: ArrayLike, v: ArrayLike) -> np.ndarray:
    r"""Vector-Jacobian product :math:`J^\top v = a \odot (v - (a \cdot v)\,\mathbf{1})`.

    Derived in chapter 2, "The Jacobian of softmax" (back-propagation never forms ``J``): it costs
    O(n) time and memory where ``softmax_jacobian(z).T @ v`` costs O(n^2). ``J`` is symmetric, so this
    is also ``J v``.

    Parameters
    ----------
    z : array_like, shape (..., n)
        Logits, softmax along the last axis.
    v : array_like, shape (..., n)
        The upstream gradient ``dL/da``, broadcastable against ``z``.
    """
    array = as_float_array(z, "z")
    if array.ndim == 0:
        raise ValueError("z must have at least one dimension, shape (..., n)")
    upstream = as_float_array(v, "v")
    if upstream.ndim == 0 or upstream.shape[-1] != array.shape[-1]:
        raise ValueError(
            f"v must have the same last dimension as z ({array.shape[-1]}), got shape {upstream.shape}"
        )
    try:
        np.broadcast_shapes(array.shape, upstream.shape)
    except ValueError:
        raise ValueError(
            f"v of shape {upstream.shape} does not broadcast against z of shape {array.shape}"
        ) from None
    a = softmax(array, axis=-1)
    dot = np.sum(a * upstream, axis=-1, keepdims=True)
    return (a * (upstream - dot)).astype(a.dtype, copy=False)
