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

This file holds the formulas. How they run over a large array (blocks that fit the cache,
transposed blocks of short rows, numpy's summation order) is in ``softmaxnotes/_schedule.py``,
which changes the speed and never the bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._schedule import LIMITS, Body, run
from ._validation import as_float_array, normalize_axis, working_dtype

# --------------------------------------------------------------------------------------------------
# The formulas. Each is a body: from the logits ``z`` it computes in place in ``dest`` and returns
# its per-slice values, the reduced axis kept. ``along`` does each step slice by slice (maximum,
# broadcast, sum): where the speed comes from is softmaxnotes/_schedule.py, which runs a body on
# the whole array, on blocks of rows, or on transposed blocks of short rows, always with these bits.
# --------------------------------------------------------------------------------------------------


def _softmax_body(z, dest, along):
    """``dest = exp(z - m) / sum(exp(z - m))``, the shifted formula, in place in ``dest``.

    A slice whose maximum is +inf is divided by 1 instead of its sum (nan): ``exp(z - m)`` is
    already the documented result there, nan at the +inf entries (inf - inf) and 0 elsewhere.
    """
    m = along.max(z)
    along.subtract(z, m, out=dest)
    np.exp(dest, out=dest)
    total = along.sum(dest)
    np.copyto(total, 1, where=m == np.inf)
    along.divide(dest, total, out=dest)
    return m


def _max_and_log1p_rest(z, dest, along, keep_shifted):
    """Return ``m`` and ``l = log1p(s)`` along the axis (kept), ``s = sum_{j != k} exp(z_j - m)``.

    ``k`` is the first largest entry: its term is exactly 1 and is left out of the sum, so
    ``log1p(s)`` keeps full relative accuracy when ``s`` is tiny (Blanchard, Higham & Higham 2021);
    in a tie for the maximum the other copies stay in ``s``, each exactly 1. ``dest`` receives
    ``z - m``, or, with ``keep_shifted`` false, the exponentials, which then need no array of their
    own. ``l`` is set to 0 where ``m`` is not finite, so that ``m + l`` and ``(z - m) - l`` need no
    case split: they are ``m`` (nan, +inf, or -inf for an all ``-inf`` slice) and ``z - m`` (nan,
    or -inf beside a +inf), the documented edge cases. A nan makes ``m`` nan.
    """
    m, first = along.first_max(z)
    along.subtract(z, m, out=dest)
    terms = along.exp_except_first_max(dest, first, out=None if keep_shifted else dest)
    log1p_rest = np.log1p(along.sum(terms))
    np.copyto(log1p_rest, 0, where=~np.isfinite(m))
    return m, log1p_rest


def _logsumexp_body(z, dest, along):
    """``m + log1p(s)`` (see :func:`_max_and_log1p_rest`); ``dest`` is scratch space."""
    m, log1p_rest = _max_and_log1p_rest(z, dest, along, keep_shifted=False)
    return np.add(m, log1p_rest, out=m)


def _log_softmax_body(z, dest, along):
    """``dest = (z - m) - log1p(s)``: a sum of two non-positive terms, so no cancellation."""
    m, log1p_rest = _max_and_log1p_rest(z, dest, along, keep_shifted=True)
    along.subtract(dest, log1p_rest, out=dest)
    return m


# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------


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


def _same_shape(z: ArrayLike, axis: Any, body: Body, name: str) -> np.ndarray:
    """Fill an array of z's shape slice by slice with ``body`` (softmax and log_softmax).

    float16 is computed in float32 and rounded once at the end, inside ``errstate``: a log-softmax
    below -65504 becomes -inf and a probability below 6.1e-5 underflows in that cast, silently.
    """
    array, work, ax, out_dtype = _prepare(z, axis)
    if work.size == 0:
        return np.array(array, dtype=out_dtype, copy=True)
    result = np.empty_like(work)  # the layout of z, as numpy would give z - m
    with np.errstate(all="ignore"):
        run(work, ax, body, LIMITS[name], result)
        result = result.astype(out_dtype, copy=False)
    return result.reshape(array.shape)


def logsumexp(z: ArrayLike, axis: int | None = -1, keepdims: bool = False) -> np.ndarray:
    r"""Log-sum-exp :math:`\log \sum_k e^{z_k}`, computed as :math:`m + \operatorname{log1p}(s)`.

    Defined in chapter 1 ("Softmax is the gradient of log-sum-exp"); its accuracy is measured in
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
            result = run(work, ax, _logsumexp_body, LIMITS["logsumexp"])
            result = result.astype(out_dtype, copy=False)
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
    return _same_shape(z, axis, _log_softmax_body, "log_softmax")


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
    return _same_shape(z, axis, _softmax_body, "softmax")
