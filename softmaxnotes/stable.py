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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, normalize_axis, working_dtype

# --------------------------------------------------------------------------------------------------
# How the work is scheduled (private; the results do not depend on it)
#
# Each function is written once, as a "body": given a source array, a destination of the same shape
# and the axis to reduce, it computes in place in the destination (``out=`` everywhere: one output
# array and no temporaries of its size) and returns its per-slice values. `_run` applies the body
#
# * to the whole array: any shape, any axis, any memory layout;
# * to blocks of rows of a C-contiguous array reduced along its last axis, when the array is large
#   (`_BLOCKS_FROM`): after the first read of a block every later pass finds it in the cache;
# * to transposed blocks when that last axis is short (a batch of 200000 rows of 10 logits): numpy
#   pays a fixed cost per row for a reduction or a broadcast along a short axis, so a block of
#   rows is copied into an (n, rows) buffer in which every step runs along the long axis.
#
# Blocking and transposing only move numbers: every subtraction, exponential and division is the
# same correctly rounded operation on the same operands, and sums follow numpy's own order
# (`_pairwise_sum`), so all three give the bits of the unblocked formula (for softmax, exactly
# ``e = exp(z - max(z)); e / e.sum()``). The size thresholds below were measured with
# benchmarks/bench_softmax.py on a 2-core Xeon with a 2 MiB L2 cache; on another machine they move
# the crossovers a little, never the results.
# --------------------------------------------------------------------------------------------------

_BLOCK_BYTES = 1 << 19  # 512 KiB per block: with its temporaries it stays in a 2 MiB L2 cache
_SHORT_ROW_BYTES = 192  # last axes up to 24 float64 or 48 float32 go to transposed blocks
_SHORT_ROW_MIN_ROWS = 256  # fewer rows than this: the whole-array path is cheaper
# Larger arrays than this (bytes) go to blocks of rows. logsumexp and log_softmax save a temporary
# of the size of z that way; softmax has none to save and gains only once z outgrows the L3 cache.
_BLOCKS_FROM = {"logsumexp": 2 * _BLOCK_BYTES, "log_softmax": 6 << 20, "softmax": 32 << 20}
_ROW_LOOP_BYTES = 512  # rows at least this long run broadcasts one row at a time (`_row_loops`)

# body(source, destination, axis, transposed) -> per-slice values, the reduced axis kept
Body = Callable[[np.ndarray, np.ndarray | None, int, bool], np.ndarray]


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


def _run(work: np.ndarray, ax: int, body: Body, out: np.ndarray | None = None, *,
         scratch: bool = True, blocks_from: float = np.inf) -> np.ndarray:
    """Apply ``body`` to the non-empty ``work`` along ``ax``; return its per-slice values with the
    reduced axis kept (length 1), whichever way the work was split.

    The body writes into ``out`` (the shape of ``work``); without ``out`` into scratch space, or
    nowhere (``None``) if ``scratch`` is false. ``work`` is never written. A short last axis goes
    to transposed blocks, a longer one to blocks of rows if ``work`` has more than
    ``blocks_from`` bytes; anything else (another axis, another layout) runs on the whole array.
    """
    n = work.shape[ax]
    short = (0 < n <= 128  # _pairwise_sum follows numpy's order up to 128 terms
             and n * work.itemsize <= _SHORT_ROW_BYTES and work.size // n >= _SHORT_ROW_MIN_ROWS)
    blocked = short or work.nbytes > blocks_from
    contiguous = work.flags.c_contiguous and (out is None or out.flags.c_contiguous)
    if ax != work.ndim - 1 or not contiguous or not blocked:
        return body(work, np.empty_like(work) if out is None and scratch else out, ax, False)
    rows = work.reshape(-1, n)
    total = rows.shape[0]
    out_rows = None if out is None else out.reshape(rows.shape)
    step = max(1, min(total, _BLOCK_BYTES // (n * rows.itemsize)))
    if short:  # float16 is only ever summed here: in float32, as numpy does, rounded once
        buffer = np.empty((n, step), working_dtype(rows))
    elif out is None and scratch:
        buffer = np.empty((step, n), rows.dtype)
    values = np.empty(total, rows.dtype)
    for start in range(0, total, step):
        stop = min(start + step, total)
        if short:
            block = buffer[:, : stop - start]
            np.copyto(block, rows[start:stop].T)
            values[start:stop] = body(block, block, 0, True)[0]
            if out_rows is not None:
                np.copyto(out_rows[start:stop], block.T)
        else:
            if out_rows is not None:
                dest = out_rows[start:stop]
            else:
                dest = buffer[: stop - start] if scratch else None
            values[start:stop] = body(rows[start:stop], dest, 1, False)[:, 0]
    return values.reshape(work.shape[:-1] + (1,))


@contextmanager
def _row_loops(array: np.ndarray, axis: int) -> Iterator[None]:
    """Run the enclosed broadcasts (``z - m``, ``e / s`` with one ``m``, ``s`` per row) one row at a
    time, if ``axis`` is the last one and its rows hold at least ``_ROW_LOOP_BYTES``.

    When a row is shorter than numpy's ufunc buffer (8192 elements by default), numpy runs several
    rows per inner loop through its buffers, which measures several times slower than subtracting
    a scalar from each row; with a buffer shorter than a row the inner loop is one row against one
    scalar, a vectorised loop. Only the schedule changes: the operations are elementwise and
    correctly rounded, so the bits are the same. Reductions stay outside, since numpy's summation
    order may depend on the buffer.
    """
    if axis != array.ndim - 1 or array.shape[axis] * array.itemsize < _ROW_LOOP_BYTES:
        yield
        return
    previous = np.setbufsize(16)
    try:
        yield
    finally:
        np.setbufsize(previous)


def _max_along(source: np.ndarray, axis: int) -> np.ndarray:
    """``max`` along ``axis``, the axis kept.

    Along the last axis of a C-contiguous array this is ``maximum.reduceat`` over the flattened
    rows, which numpy runs with far less overhead per row than ``max(axis=-1)`` for rows of up to
    thousands of entries. A maximum is exact, so the value is the same (nan if the row has one).
    """
    if axis != source.ndim - 1 or not source.flags.c_contiguous:
        return np.max(source, axis=axis, keepdims=True)
    starts = np.arange(0, source.size, source.shape[axis])
    return np.maximum.reduceat(source.reshape(-1), starts).reshape(source.shape[:-1] + (1,))


def _pairwise_sum(terms: np.ndarray) -> np.ndarray:
    """Sum the n <= 128 rows of ``terms`` (shape (n, b)) column by column, in exactly the order in
    which numpy's ``add.reduce`` sums a contiguous run of n numbers; returns shape (1, b).

    That order (numpy's pairwise summation, which up to 128 terms is a single block of 8
    accumulators) is: below 8 terms, left to right; otherwise accumulator ``r_j`` adds
    ``t_j, t_{j+8}, t_{j+16}, ...`` over the whole groups of 8, the accumulators are combined as
    ``((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))`` and the last ``n mod 8`` terms are added
    left to right. Following it, a transposed block gives the bits of ``e.sum(axis=-1)`` on its
    rows, so a row's result does not depend on the size of its batch. Each step adds whole rows
    (8 at a time), so a block costs about n / 8 + 5 numpy calls.
    """
    n = terms.shape[0]
    total = np.empty((1,) + terms.shape[1:], terms.dtype)
    if n < 8:
        np.copyto(total[0], terms[0])
        for j in range(1, n):
            np.add(total[0], terms[j], out=total[0])
        return total
    whole = n - n % 8
    acc = terms[:8]
    if whole > 8:
        acc = np.add(terms[:8], terms[8:16])
        for i in range(16, whole, 8):
            np.add(acc, terms[i : i + 8], out=acc)
    pairs = np.add(acc[0::2], acc[1::2])  # r0 + r1, r2 + r3, r4 + r5, r6 + r7
    np.add(pairs[0] + pairs[1], pairs[2] + pairs[3], out=total[0])
    for j in range(whole, n):
        np.add(total[0], terms[j], out=total[0])
    return total


def _sum(terms: np.ndarray, axis: int, transposed: bool) -> np.ndarray:
    """Sum along ``axis``, the axis kept, in numpy's order (see :func:`_pairwise_sum`)."""
    return _pairwise_sum(terms) if transposed else np.add.reduce(terms, axis=axis, keepdims=True)


def _sum_last_axis(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1, keepdims=True)``, the same bits, without numpy's cost per short row."""
    def body(source, _, axis, transposed):
        return _sum(source, axis, transposed)

    return _run(x, x.ndim - 1, body, scratch=False)


def _drop_first_max(terms: np.ndarray, not_max: np.ndarray) -> None:
    """Set to 0 the term of the first maximal entry of each column of a transposed block.

    ``not_max`` is ``z - m != 0``: ``z_j - m`` is exactly 0 if and only if ``z_j == m`` (with
    gradual underflow two distinct floats never differ by 0), and there ``exp(z_j - m)`` is
    exactly 1. Multiplying by ``not_max`` zeroes every maximal term in one pass (``argmax`` along
    the short axis would cost a call per column); columns with a tie for the maximum then get the
    later copies back, so that, as in the general path, only the first maximal term is left out.
    """
    np.multiply(terms, not_max, out=terms)
    maxima = terms.shape[0] - np.add.reduce(not_max, axis=0, dtype=np.int16)
    (tied,) = np.nonzero(maxima > 1)
    if tied.size:
        later = ~not_max[:, tied]
        later[np.argmax(later, axis=0), np.arange(tied.size)] = False
        columns = terms[:, tied]
        columns[later] = 1
        terms[:, tied] = columns


def _log_terms(source: np.ndarray, dest: np.ndarray, axis: int, transposed: bool,
               keep_shifted: bool) -> tuple[np.ndarray, np.ndarray]:
    """Return ``m`` and ``l = log1p(s)`` along ``axis`` (kept), ``s = sum_{j != k} exp(z_j - m)``.

    ``k`` is the first largest entry: its term is exactly 1 and is left out of the sum, so
    ``log1p(s)`` keeps full relative accuracy when ``s`` is tiny (Blanchard, Higham & Higham 2021);
    in a tie for the maximum the other copies stay in ``s``, each exactly 1. ``dest`` receives
    ``z - m``, or, with ``keep_shifted`` false, the exponentials, which then need no array of their
    own. ``l`` is set to 0 where ``m`` is not finite, so that ``m + l`` and ``(z - m) - l`` need no
    case split: they are ``m`` (nan, +inf, or -inf for an all ``-inf`` slice) and ``z - m`` (nan,
    or -inf beside a +inf), the documented edge cases. A nan makes ``m`` nan.
    """
    if transposed:
        m = np.max(source, axis=0, keepdims=True)
        np.subtract(source, m, out=dest)
        not_max = dest != 0
        terms = np.exp(dest) if keep_shifted else np.exp(dest, out=dest)
        _drop_first_max(terms, not_max)
    else:
        k = np.argmax(source, axis=axis, keepdims=True)  # the first nan, if any
        m = np.take_along_axis(source, k, axis=axis)
        with _row_loops(dest, axis):
            np.subtract(source, m, out=dest)
        terms = np.exp(dest) if keep_shifted else np.exp(dest, out=dest)
        np.put_along_axis(terms, k, 0, axis=axis)
    log1p_rest = np.log1p(_sum(terms, axis, transposed))
    np.copyto(log1p_rest, 0, where=~np.isfinite(m))
    return m, log1p_rest


def _logsumexp_body(source, dest, axis, transposed):
    """``m + log1p(s)`` (see :func:`_log_terms`); ``dest`` is scratch space."""
    m, log1p_rest = _log_terms(source, dest, axis, transposed, keep_shifted=False)
    return np.add(m, log1p_rest, out=m)


def _log_softmax_body(source, dest, axis, transposed):
    """``dest = (z - m) - log1p(s)``: a sum of two non-positive terms, so no cancellation."""
    m, log1p_rest = _log_terms(source, dest, axis, transposed, keep_shifted=True)
    with _row_loops(dest, axis):
        np.subtract(dest, log1p_rest, out=dest)
    return m


def _softmax_body(source, dest, axis, transposed):
    """``dest = exp(z - m) / sum(exp(z - m))``, the shifted formula, in place in ``dest``.

    A slice whose maximum is +inf is divided by 1 instead of its sum (nan): ``exp(z - m)`` is
    already the documented result there, nan at the +inf entries (inf - inf) and 0 elsewhere.
    """
    m = np.max(source, axis=0, keepdims=True) if transposed else _max_along(source, axis)
    with _row_loops(dest, axis):
        np.subtract(source, m, out=dest)
    np.exp(dest, out=dest)
    total = _sum(dest, axis, transposed)
    np.copyto(total, 1, where=m == np.inf)
    with _row_loops(dest, axis):
        np.divide(dest, total, out=dest)
    return m


# --------------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------------


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
        _run(work, ax, body, result, blocks_from=_BLOCKS_FROM[name])
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
            result = _run(work, ax, _logsumexp_body, blocks_from=_BLOCKS_FROM["logsumexp"])
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
