"""Cross-entropy of softmax and its gradient with respect to the logits.

Derived in chapter 3, "Cross-entropy and its gradient".
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._schedule import sum_last_axis
from ._validation import as_float_array
from .stable import log_softmax, softmax


def _logits(z: ArrayLike) -> np.ndarray:
    array = as_float_array(z, "z")
    if array.ndim not in (1, 2):
        raise ValueError(f"z must have shape (n,) or (batch, n), got shape {array.shape}")
    if array.shape[-1] == 0:
        raise ValueError("z must have at least one class (its last dimension is 0)")
    return array


def _target(target: Any, logits: np.ndarray) -> tuple[str, np.ndarray]:
    """Classify and check ``target``: ``("index", int array)`` or ``("probability", float array)``."""
    n = logits.shape[-1]
    if target is None or isinstance(target, (str, bytes)):
        raise TypeError(
            f"target must be integer class indices or probability vectors, got {target!r}"
        )
    try:
        array = np.asarray(target)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"target must be a rectangular array: {exc}") from None
    kind = array.dtype.kind
    if kind in "iu":
        expected = logits.shape[:-1]
        if array.shape != expected:
            raise ValueError(
                f"target of class indices must have shape {expected} for z of shape {logits.shape}, "
                f"got shape {array.shape}"
            )
        if array.size and (array.min() < 0 or array.max() >= n):
            raise ValueError(f"target class index out of range [0, {n}): got {array}")
        return "index", array.astype(np.intp)
    if kind == "f":
        if array.shape != logits.shape:
            raise ValueError(
                f"target of probabilities must have z's shape {logits.shape}, got shape "
                f"{array.shape} (pass an integer array for class indices)"
            )
        if not np.all(np.isfinite(array)) or np.any(array < 0):
            raise ValueError("target probabilities must be finite and non-negative")
        tolerance = np.sqrt(np.finfo(array.dtype).eps)
        if array.size and not np.allclose(array.sum(axis=-1), 1.0, rtol=0.0, atol=tolerance):
            raise ValueError(
                f"each target probability vector must sum to 1 (within {tolerance:.1e}); "
                f"got sums {array.sum(axis=-1)}"
            )
        return "probability", array
    raise TypeError(
        f"target must be integer class indices or float probability vectors, got dtype {array.dtype}"
    )


def cross_entropy(z: ArrayLike, target: Any) -> np.ndarray:
    r"""Cross-entropy of softmax, :math:`L = -\sum_k y_k \log a_k` with :math:`a = \mathrm{softmax}(z)`.

    Derived in chapter 3, "Cross-entropy and its gradient". For a class index ``c`` this is
    ``L = -log a_c``. ``log a`` comes from :func:`softmaxnotes.log_softmax`, never
    ``log(softmax(z))``, so large logits give a finite loss.

    Parameters
    ----------
    z : array_like, shape (n,) or (batch, n)
        Logits.
    target : int, int array of shape (batch,), or probability vectors of z's shape
        An integer class index in [0, n) for 1-D ``z``; one per row for 2-D ``z``; or probability
        vectors (non-negative, each summing to 1), for example label-smoothed targets.

    Returns
    -------
    ndarray, shape () for 1-D z or (batch,) for 2-D z (an empty batch gives shape (0,)), dtype
    following the logits. A ``-inf`` logit in a class with ``y_k = 0`` contributes 0, not nan.
    """
    logits = _logits(z)
    kind, y = _target(target, logits)
    log_probs = log_softmax(logits, axis=-1)
    if kind == "index":
        picked = np.take_along_axis(log_probs, y[..., np.newaxis], axis=-1)[..., 0]
        return (-picked).astype(log_probs.dtype, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        # the sum overflows to +inf (and the float16 cast likewise) when the loss exceeds the
        # largest float, e.g. y = [0, 0.5, 0.5] with z = [1.8e308, 0, 0]
        terms = np.where(y != 0, y * log_probs, 0.0)
        return (-terms.sum(axis=-1)).astype(log_probs.dtype, copy=False)


def cross_entropy_grad(z: ArrayLike, target: Any) -> np.ndarray:
    r"""Gradient of :func:`cross_entropy` with respect to the logits: :math:`\partial L/\partial z = a - y`.

    Derived in chapter 3, "Cross-entropy and its gradient" (the chain rule through the softmax
    Jacobian collapses to ``a - y``). Per example: for a batch *mean* of the losses divide by the
    batch size. For a class index ``c`` the entry ``a_c - 1`` is computed as ``-sum_{k != c} a_k``,
    so it keeps its relative accuracy when ``a_c`` is close to 1, and it is clamped to [-1, 0],
    the range of its exact value.

    Returns an array of z's shape, dtype as :func:`softmaxnotes.softmax`. Arguments as
    :func:`cross_entropy`.
    """
    logits = _logits(z)
    kind, y = _target(target, logits)
    grad = softmax(logits, axis=-1)  # a fresh array: the gradient is built in it, in place
    if kind == "probability":
        # y may be wider than the logits: subtract in the wider type, round once (as (a - y).astype)
        return np.subtract(grad, y, out=grad, casting="same_kind")
    index = y[..., np.newaxis]
    np.put_along_axis(grad, index, 0, axis=-1)
    others = sum_last_axis(grad)  # grad.sum(axis=-1, keepdims=True), fast for short rows too
    # The exact value a_c - 1 lies in [-1, 0]; a computed sum of the others can exceed 1 by a
    # rounding error when a_c is tiny, so clamp (nan stays nan).
    np.put_along_axis(grad, index, -np.minimum(others, 1), axis=-1)
    return grad
