r"""Sparsemax, the Euclidean projection onto the probability simplex, and its Jacobian.

Derived in chapter 10, "Relatives of softmax" (Martins & Astudillo, ICML 2016). Where softmax
gives every class a positive probability, sparsemax returns the point of the probability simplex
closest to the logits,

.. math:: \operatorname{sparsemax}(z) = \arg\min_{\rho \in \mathcal{P}_n} \lVert \rho - z \rVert^2,
          \qquad \mathcal{P}_n = \{\rho \in \mathbb{R}^n : \rho \ge 0,\ \mathbf{1}^\top \rho = 1\},

which is :math:`\operatorname{sparsemax}(z)_i = \max(z_i - \xi(z), 0)` for one threshold
:math:`\xi(z)`, so that classes with :math:`z_i \le \xi(z)` get probability exactly 0.

Non-finite logits: a ``-inf`` logit gets probability exactly 0 (a mask), as in
:func:`softmaxnotes.softmax`. A nan or ``+inf`` logit, and a slice whose logits are all ``-inf``,
have no projection and raise ``ValueError`` naming ``z`` (softmax returns nan there; here a
nan would hide which slice was at fault, and no threshold exists).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, normalize_axis, working_dtype

__all__ = ["sparsemax", "sparsemax_jacobian"]


def _check_finite(work: np.ndarray) -> None:
    """Reject nan and ``+inf`` logits, and slices (along the last axis) with no finite logit."""
    if np.isnan(work).any():
        raise ValueError("z contains nan: sparsemax is not defined there")
    if np.isposinf(work).any():
        raise ValueError("z contains +inf: sparsemax has no threshold there (softmax would give nan)")
    if work.size and not np.isfinite(work).any(axis=-1).all():
        raise ValueError("z has a slice whose logits are all -inf: there is nothing to project")


def _last_axis(work: np.ndarray) -> np.ndarray:
    """Martins & Astudillo's Algorithm 1 along the last axis of a validated, non-empty array.

    1. shift by the maximum (sparsemax is shift invariant) and sort in decreasing order,
       ``z_(1) >= z_(2) >= ... >= z_(n)``;
    2. ``k(z) = max{k : 1 + k z_(k) > z_(1) + ... + z_(k)}``, the size of the support;
    3. ``xi(z) = (z_(1) + ... + z_(k(z)) - 1) / k(z)``, the threshold;
    4. ``max(z - xi(z), 0)``.
    """
    n = work.shape[-1]
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = work - work.max(axis=-1, keepdims=True)  # the largest logit becomes exactly 0
        ordered = -np.sort(-shifted, axis=-1)  # decreasing; -inf (masked) logits go last
        partial = np.cumsum(ordered, axis=-1)
        k = np.arange(1, n + 1, dtype=work.dtype)
        in_support = 1 + k * ordered > partial  # always true for k = 1, since z_(1) = 0
        # the largest k with the condition true: count from the end to the last True
        size = n - np.argmax(in_support[..., ::-1], axis=-1)
        top_sum = np.take_along_axis(partial, size[..., np.newaxis] - 1, axis=-1)
        threshold = (top_sum - 1) / size[..., np.newaxis].astype(work.dtype)
        return np.maximum(shifted - threshold, 0)


def _project(z: ArrayLike, axis: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate; return (z as an array, sparsemax in the working dtype with z's shape)."""
    array = as_float_array(z, "z")
    if array.ndim == 0:
        raise ValueError("z must have at least one dimension (a 0-d scalar has no axis to project)")
    work = array.astype(working_dtype(array), copy=False)
    if axis is None:
        work, ax = work.reshape(-1), -1
    else:
        ax = normalize_axis(axis, array.ndim)
        work = np.moveaxis(work, ax, -1)
    if work.size == 0:
        return array, np.array(array, dtype=work.dtype, copy=True)
    _check_finite(work)
    result = _last_axis(work)
    if axis is None:
        return array, result.reshape(array.shape)
    return array, np.ascontiguousarray(np.moveaxis(result, -1, ax))


def sparsemax(z: ArrayLike, axis: int | None = -1) -> np.ndarray:
    r"""Sparsemax :math:`\operatorname{sparsemax}(z)_i = \max(z_i - \xi(z), 0)`, the Euclidean
    projection of ``z`` onto the probability simplex along ``axis``.

    Derived in chapter 10, "Relatives of softmax". The threshold :math:`\xi(z)` is the one number
    that makes the result sum to 1; it is found by Martins & Astudillo's sort-based Algorithm 1
    (O(n log n) per slice): with :math:`z_{(1)} \ge \dots \ge z_{(n)}` the sorted logits,

    .. math:: k(z) = \max\{k : 1 + k z_{(k)} > \textstyle\sum_{j \le k} z_{(j)}\},\qquad
              \xi(z) = \Big(\textstyle\sum_{j \le k(z)} z_{(j)} - 1\Big) / k(z).

    Classes with :math:`z_i \le \xi(z)` get probability exactly 0; the support is
    :math:`\mathcal{S} = \{i : z_i > \xi(z)\}` with :math:`|\mathcal{S}| = k(z)`. Like softmax,
    sparsemax is invariant to adding one number to every logit (the logits are shifted by their
    maximum first, so large logits lose no accuracy).

    Parameters
    ----------
    z : array_like of real numbers, at least one dimension.
    axis : int or None
        The axis to project along (default the last); ``None`` treats the whole array as one
        distribution, as :func:`softmaxnotes.softmax` does.

    Returns
    -------
    ndarray of z's shape. dtype rules as :func:`softmaxnotes.softmax`: float16/float32/float64
    keep their dtype (float16 is computed in float32 and rounded once), ints, bools and lists
    give float64. An empty slice gives an empty result.

    Raises
    ------
    ValueError
        if ``z`` contains nan or ``+inf``, or a slice whose logits are all ``-inf`` (a ``-inf``
        logit beside finite ones gets probability exactly 0), or ``axis`` is out of range.
    TypeError
        for strings, complex numbers, None, or a non-integer ``axis``.
    """
    array, result = _project(z, axis)
    return result.astype(array.dtype, copy=False)


def sparsemax_jacobian(z: ArrayLike) -> np.ndarray:
    r"""Jacobian of sparsemax along the last axis,
    :math:`\partial\, \operatorname{sparsemax}(z) / \partial z
    = \operatorname{diag}(\mathbf{1}_\mathcal{S}) - \mathbf{1}_\mathcal{S} \mathbf{1}_\mathcal{S}^\top / |\mathcal{S}|`.

    Derived in chapter 10, "Relatives of softmax". :math:`\mathbf{1}_\mathcal{S}` is the indicator
    vector of the support :math:`\mathcal{S} = \{i : \operatorname{sparsemax}(z)_i > 0\}`: entry
    :math:`(i, j)` is :math:`\delta_{ij} - 1/|\mathcal{S}|` when both classes are in the support,
    and 0 otherwise. The matrix is symmetric, sends :math:`\mathbf{1}` to 0, and is the
    orthogonal projection onto the vectors that live on :math:`\mathcal{S}` and sum to zero; it
    depends on ``z`` only through the support, so it is piecewise constant.

    Sparsemax is differentiable wherever no logit sits exactly at the threshold
    (:math:`z_i \ne \xi(z)` for every ``i``); there the support is the same for all nearby ``z``.
    At a point where :math:`z_i = \xi(z)`, class ``i`` has probability 0 and is left out of the
    support: the matrix is then the directional derivative along every direction that keeps class
    ``i`` out of the support (sparsemax is piecewise linear, with a kink there).

    Parameters
    ----------
    z : array_like, shape (..., n)
        Logits; sparsemax along the last axis, leading axes are a batch. Non-finite values as
        :func:`sparsemax`.

    Returns
    -------
    ndarray, shape (..., n, n), dtype as :func:`sparsemax`.
    """
    array, probabilities = _project(z, -1)  # the support in the working precision
    support = (probabilities > 0).astype(array.dtype)
    size = support.sum(axis=-1, keepdims=True)
    if array.shape[-1] == 0:
        size = np.ones_like(size)  # no class, no support: an empty (..., 0, 0) result
    eye = np.eye(array.shape[-1], dtype=array.dtype)
    outer = support[..., :, np.newaxis] * support[..., np.newaxis, :]
    return eye * support[..., np.newaxis, :] - outer / size[..., np.newaxis]
