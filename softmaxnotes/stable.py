"""Numerically stable softmax, log-softmax and log-sum-exp over any axis of any array.

Introduced in chapter 1, "What softmax is"; the floating-point reasoning is in chapter 6, "Softmax in
floating point".

Stability comes from two facts. Shifting the logits by their maximum ``m`` changes nothing in real
arithmetic (shift invariance) and keeps every exponent ``exp(z_k - m)`` in (0, 1]. And with ``k`` the
position of the maximum, ``logsumexp(z) = m + log1p(s)`` with ``s = sum_{j != k} exp(z_j - m)``, which
is accurate even when ``s`` is far below the unit roundoff (Blanchard, Higham & Higham, IMA J. Numer.
Anal. 41(4), 2021).

Edge cases follow ``scipy.special``: a ``-inf`` logit gets probability 0; a slice that is all ``-inf``
gives nan (its ``logsumexp`` is ``-inf``); a ``+inf`` logit gives nan at its own position (0 elsewhere)
and ``logsumexp`` gives ``+inf``; a nan makes its own slice nan and no other; ``logsumexp`` over an
empty axis is ``-inf``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, normalize_axis, working_dtype


def _prepare(z: ArrayLike, axis: Any) -> tuple[np.ndarray, np.ndarray, int, np.dtype]:
    """Validate ``z`` and ``axis``; return (original array, working array, axis, output dtype).

    ``axis=None`` treats the whole array as one distribution: the working array is flattened.
    """
    array = as_float_array(z, "z")
    if axis is None:
        work = array.reshape(-1)
        return array, work.astype(working_dtype(array), copy=False), 0, array.dtype
    if array.ndim == 0:
        raise ValueError("z must have at least one dimension (a 0-d scalar has no axis to normalise)")
    ax = normalize_axis(axis, array.ndim)
    return array, array.astype(working_dtype(array), copy=False), ax, array.dtype


def _max_and_rest(work: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``m`` (the max along ``axis``, kept as a length-1 axis) and ``log1p`` of the rest.

    ``rest = sum_{j != k} exp(z_j - m)`` leaves out the first maximal entry ``k``, whose term is
    exactly 1, so ``log1p(rest)`` keeps full relative accuracy when ``rest`` is tiny.
    A nan anywhere in a slice makes ``m`` nan for that slice (``argmax`` finds the nan first).
    """
    k = np.argmax(work, axis=axis, keepdims=True)
    m = np.take_along_axis(work, k, axis=axis)
    finite = np.isfinite(m)
    shifted = work - np.where(finite, m, 0)
    np.exp(shifted, out=shifted)
    np.put_along_axis(shifted, k, 0, axis=axis)
    rest = shifted.sum(axis=axis, keepdims=True)
    return m, np.log1p(rest)


def logsumexp(z: ArrayLike, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    r"""Log-sum-exp :math:`\log \sum_k e^{z_k}`, computed as :math:`m + \operatorname{log1p}(s)`.

    Defined in chapter 1 ("softmax as the gradient of log-sum-exp"); its accuracy is measured in
    chapter 6. ``m = max_k z_k`` and ``s = sum_{j != argmax} exp(z_j - m)``, so logits of 1e4 or
    1e308 do not overflow and ``logsumexp([0, -40]) == log1p(exp(-40))`` to full precision.

    Parameters
    ----------
    z : array_like of real numbers, any shape.
    axis : int or None
        The axis to reduce (default the last); ``None`` reduces over all entries.
    keepdims : bool
        Keep the reduced axis with length 1.

    Edge cases (as ``scipy.special.logsumexp``): empty reduced axis gives ``-inf``; all ``-inf``
    gives ``-inf``; any ``+inf`` gives ``+inf``; any nan gives nan. float16/float32 input gives the
    same dtype out, float64 stays, ints, bools and lists give float64.
    """
    array, work, ax, out_dtype = _prepare(z, axis)
    if work.shape[ax] == 0:
        shape = list(work.shape)
        shape[ax] = 1
        result = np.full(shape, -np.inf, dtype=out_dtype)
    else:
        with np.errstate(all="ignore"):
            m, log1p_rest = _max_and_rest(work, ax)
            result = np.where(np.isfinite(m), m + log1p_rest, m).astype(out_dtype, copy=False)
    if axis is None:
        return result.reshape((1,) * array.ndim) if keepdims else result.reshape(())
    return result if keepdims else np.squeeze(result, axis=ax)


def log_softmax(z: ArrayLike, axis: int | None = -1) -> np.ndarray:
    r"""Log-softmax :math:`\log a_k = z_k - \operatorname{logsumexp}(z)`, computed as
    :math:`(z_k - m) - \operatorname{log1p}(s)`.

    Defined in chapter 3, "Cross-entropy and its gradient", where it is the stable way to compute
    the loss (never ``log(softmax(z))``, which gives ``-inf`` once a probability underflows).

    Edge cases (as ``scipy.special.log_softmax``): a ``-inf`` logit gives ``-inf``; an all ``-inf``
    slice gives nan; a ``+inf`` logit gives nan at its position and ``-inf`` elsewhere; a nan makes
    its slice nan. Same shape as ``z``; dtype rules as :func:`logsumexp`.
    """
    array, work, ax, out_dtype = _prepare(z, axis)
    if work.size == 0:
        return np.array(array, dtype=out_dtype, copy=True)
    with np.errstate(all="ignore"):
        m, log1p_rest = _max_and_rest(work, ax)
        shifted = work - m
        result = np.where(np.isfinite(m), shifted - log1p_rest, shifted)
        # float16 is computed in float32: a value below -65504 becomes -inf in the cast
        result = result.astype(out_dtype, copy=False)
    return result.reshape(array.shape)


def softmax(z: ArrayLike, axis: int | None = -1) -> np.ndarray:
    r"""Softmax :math:`a_k = e^{z_k} / \sum_j e^{z_j}`, computed as
    :math:`e^{z_k - m} / \sum_j e^{z_j - m}` with :math:`m = \max_j z_j`.

    Defined in chapter 1, "What softmax is" (equation ``eq-softmax``). Every entry lies in [0, 1]
    and each slice along ``axis`` sums to 1 up to rounding.

    Edge cases: a ``-inf`` logit gets probability 0; an all ``-inf`` slice gives nan; a ``+inf``
    logit gives nan at its own position and 0 elsewhere in its slice (``scipy.special.softmax``
    makes the whole slice nan); a nan makes its own slice nan and no other. Same shape as ``z``;
    dtype rules as :func:`logsumexp`.
    """
    array, work, ax, out_dtype = _prepare(z, axis)
    if work.size == 0:
        return np.array(array, dtype=out_dtype, copy=True)
    with np.errstate(all="ignore"):
        m = work.max(axis=ax, keepdims=True)
        exps = work - m
        np.exp(exps, out=exps)
        exps /= exps.sum(axis=ax, keepdims=True)
        infinite_max = np.isposinf(m)
        if infinite_max.any():
            exps = np.where(infinite_max, np.where(np.isposinf(work), np.nan, 0.0), exps)
        # float16 is computed in float32: probabilities below 6.1e-5 underflow in the cast
        exps = exps.astype(out_dtype, copy=False)
    return exps.reshape(array.shape)
