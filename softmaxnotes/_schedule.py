"""How the formulas of :mod:`softmaxnotes.stable` are scheduled over an array (private).

This module is where the speed comes from; the formulas, and so the results, live in ``stable.py``.
The floating-point reasoning behind both is in chapter 6, "Softmax in floating point".

Each formula is written once, as a *body*: ``body(source, dest, along)`` computes in place in
``dest`` (an array of the shape of ``source``, or ``None``) and returns its per-slice values, the
reduced axis kept. ``along`` says how the slices lie in ``source`` and does the per-slice steps
(maximum, broadcast subtraction and division, exponential without the first maximum, sum). `run`
applies the body

* to the whole array: any shape, any axis, any memory layout (`Slices`);
* to blocks of rows of a C-contiguous array reduced along its last axis, when the array is large
  (`BLOCKS_FROM`): after the first read of a block every later pass finds it in the cache;
* to transposed blocks when that last axis is short (a batch of 200000 rows of 10 logits,
  `Columns`): numpy pays a fixed cost per row for a reduction or a broadcast along a short axis, so
  a block of rows is copied into an (n, rows) buffer in which every step runs along the long axis.

Blocking and transposing only move numbers: every subtraction, exponential and division is the
same correctly rounded operation on the same operands, and sums follow numpy's own order
(`_pairwise_sum`), so all three give the bits of the unblocked formula (for softmax, exactly
``e = exp(z - max(z)); e / e.sum()``). The size thresholds below were measured with
benchmarks/bench_softmax.py on a 2-core Xeon with a 2 MiB L2 cache; on another machine they move
the crossovers a little, never the results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from ._validation import working_dtype

_BLOCK_BYTES = 1 << 19  # 512 KiB per block: with its temporaries it stays in a 2 MiB L2 cache
_PAIRWISE_TERMS = 128  # numpy sums up to this many contiguous terms in one block (_pairwise_sum)
_SHORT_ROW_BYTES = 192  # last axes up to 24 float64 or 48 float32 go to transposed blocks
_SHORT_ROW_MIN_ROWS = 256  # fewer rows than this: the whole-array path is cheaper
# Larger arrays than this (bytes) go to blocks of rows. logsumexp and log_softmax save a temporary
# of the size of z that way; softmax has none to save and gains only once z outgrows the L3 cache.
BLOCKS_FROM = {"logsumexp": 2 * _BLOCK_BYTES, "log_softmax": 6 << 20, "softmax": 32 << 20}
_ROW_LOOP_BYTES = 512  # rows at least this long run broadcasts one row at a time (`_row_loops`)


class Plan(NamedTuple):
    """How `run` splits an array: ``path`` is "whole", "rows" (blocks of rows) or "columns"
    (transposed blocks of rows), ``rows`` the number of rows per block (for "whole", the number
    of slices: all of them are done at once)."""

    path: str
    rows: int


def plan(work: np.ndarray, axis: int, out: np.ndarray | None = None,
         blocks_from: float = np.inf) -> Plan:
    """The schedule for reducing ``work`` along ``axis`` (results in ``out``, if given).

    A short last axis goes to transposed blocks, a longer one to blocks of rows if ``work`` has
    more than ``blocks_from`` bytes; anything else (another axis, another layout) runs whole.
    """
    n = work.shape[axis]
    short = (0 < n <= _PAIRWISE_TERMS and n * work.itemsize <= _SHORT_ROW_BYTES
             and work.size // n >= _SHORT_ROW_MIN_ROWS)
    blocked = short or work.nbytes > blocks_from
    contiguous = work.flags.c_contiguous and (out is None or out.flags.c_contiguous)
    if axis != work.ndim - 1 or not contiguous or not blocked:
        return Plan("whole", work.size // n if n else 0)
    rows_per_block = max(1, min(work.size // n, _BLOCK_BYTES // (n * work.itemsize)))
    return Plan("columns" if short else "rows", rows_per_block)


Body = Callable[[np.ndarray, "np.ndarray | None", "Slices | Columns"], np.ndarray]


def run(work: np.ndarray, axis: int, body: Body, out: np.ndarray | None = None, *,
        scratch: bool = True, blocks_from: float = np.inf) -> np.ndarray:
    """Apply ``body`` to the non-empty ``work`` along ``axis`` as `plan` says; return its
    per-slice values with the reduced axis kept (length 1), whichever way the work was split.

    The body writes into ``out`` (the shape of ``work``); without ``out`` into scratch space, or
    nowhere (``None``) if ``scratch`` is false. ``work`` is never written.
    """
    path, step = plan(work, axis, out, blocks_from)
    if path == "whole":
        return body(work, np.empty_like(work) if out is None and scratch else out, Slices(axis))
    n = work.shape[axis]
    rows = work.reshape(-1, n)
    total = rows.shape[0]
    out_rows = None if out is None else out.reshape(rows.shape)
    if path == "columns":  # float16 is only summed here: in float32, as numpy does, rounded once
        buffer = np.empty((n, step), working_dtype(rows))
    elif out is None and scratch:
        buffer = np.empty((step, n), rows.dtype)
    values = np.empty(total, rows.dtype)
    for start in range(0, total, step):
        stop = min(start + step, total)
        if path == "columns":
            block = buffer[:, : stop - start]
            np.copyto(block, rows[start:stop].T)
            values[start:stop] = body(block, block, COLUMNS)[0]
            if out_rows is not None:
                np.copyto(out_rows[start:stop], block.T)
        else:
            if out_rows is not None:
                dest = out_rows[start:stop]
            else:
                dest = buffer[: stop - start] if scratch else None
            values[start:stop] = body(rows[start:stop], dest, LAST_AXIS_OF_ROWS)[:, 0]
    return values.reshape(work.shape[:-1] + (1,))


def sum_last_axis(x: np.ndarray) -> np.ndarray:
    """``x.sum(axis=-1, keepdims=True)``, the same bits, without numpy's cost per short row."""
    return run(x, x.ndim - 1, lambda source, _, along: along.sum(source), scratch=False)


# --------------------------------------------------------------------------------------------------
# The per-slice steps: for slices along an axis of an array, for columns of a transposed block
# --------------------------------------------------------------------------------------------------


class Slices:
    """The slices along ``axis`` of an array (the whole array, or a block of rows): numpy's own
    reductions and broadcasts, with the shortcuts of `_max_along` and `_row_loops`."""

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def max(self, z: np.ndarray) -> np.ndarray:
        return _max_along(z, self.axis)

    def first_max(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The maximum ``m`` and where its first occurrence ``k`` is (the first nan, if any)."""
        k = np.argmax(z, axis=self.axis, keepdims=True)
        return np.take_along_axis(z, k, axis=self.axis), k

    def subtract(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        with _row_loops(out, self.axis):
            return np.subtract(a, b, out=out)

    def divide(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        with _row_loops(out, self.axis):
            return np.divide(a, b, out=out)

    def exp_except_first_max(self, shifted: np.ndarray, first: np.ndarray,
                             out: np.ndarray | None = None) -> np.ndarray:
        """``exp(shifted)`` with the term of the first maximum (``first``) set to 0."""
        terms = np.exp(shifted, out=out)
        np.put_along_axis(terms, first, 0, axis=self.axis)
        return terms

    def sum(self, terms: np.ndarray) -> np.ndarray:
        return np.add.reduce(terms, axis=self.axis, keepdims=True)


class Columns:
    """The columns of a transposed block (n, b): column j is slice j, and every step runs along
    the long axis. Sums follow numpy's order for a contiguous slice (`_pairwise_sum`)."""

    axis = 0

    def max(self, z: np.ndarray) -> np.ndarray:
        return np.max(z, axis=0, keepdims=True)

    def first_max(self, z: np.ndarray) -> tuple[np.ndarray, None]:
        """The maximum; where it first occurs is found after the shift (`exp_except_first_max`)."""
        return self.max(z), None

    def subtract(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.subtract(a, b, out=out)

    def divide(self, a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
        return np.divide(a, b, out=out)

    def exp_except_first_max(self, shifted: np.ndarray, first: None,
                             out: np.ndarray | None = None) -> np.ndarray:
        """``exp(shifted)``, the term of each column's first maximum (``shifted == 0``) set to 0."""
        not_max = shifted != 0
        terms = np.exp(shifted, out=out)
        _drop_first_max(terms, not_max)
        return terms

    def sum(self, terms: np.ndarray) -> np.ndarray:
        return _pairwise_sum(terms)


COLUMNS = Columns()
LAST_AXIS_OF_ROWS = Slices(1)  # a block of rows (rows, n)


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
