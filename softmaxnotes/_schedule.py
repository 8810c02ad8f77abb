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
  (`LIMITS`): after the first read of a block every later pass finds it in the cache;
* to transposed blocks when that last axis is short (a batch of 200000 rows of 10 logits,
  `Columns`): numpy pays a fixed cost per row for a reduction or a broadcast along a short axis, so
  a block of rows is copied into an (n, rows) buffer in which every step runs along the long axis.

Blocking and transposing only move numbers: every subtraction, exponential and division is the
same correctly rounded operation on the same operands, and sums follow numpy's own order
(`_pairwise_sum`), so all three give the bits of the unblocked formula (for softmax, exactly
``e = exp(z - max(z)); e / e.sum()``). The size thresholds below are written in terms of the
cache sizes of the machine they were measured on (an AMD EPYC with 1 MiB of L2 per core and
32 MiB of L3), with benchmarks/bench_softmax.py and focused timings; on another machine they move
the crossovers, never the results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from ._validation import working_dtype

# The thresholds are stated in terms of the caches of the machine they were measured on (with
# benchmarks/bench_softmax.py and focused timings): an AMD EPYC, 2 cores, 1 MiB of L2 cache per core
# and 32 MiB of L3 shared. There every numpy pass over an array that fits the L3 cache runs as fast
# as over one that fits L2, and each numpy call costs about 2 microseconds on top of its work.
_L2_BYTES = 1 << 20
_L3_BYTES = 32 << 20
# Transposed blocks: half the L2 cache, so that the rows a block is copied from and the block
# itself both stay in L2 while the block is transposed in and out.
_COLUMN_BLOCK_BYTES = _L2_BYTES // 2
# Blocks of rows: an eighth of the L3 cache (4 MiB; a block and its output take a quarter of it).
# Each block costs a body's dozen numpy calls (about 15 microseconds); smaller blocks pay that more
# often and run no pass faster, larger ones leave the cache.
_ROW_BLOCK_BYTES = _L3_BYTES // 8
# Each row of a transposed block is followed by one spare cache line. Without it, when the block's
# row length (its number of logit rows) is a power of two, as it is for 16 or 32 logits per row,
# the n entries of one logit row, copied back out of the block, lie a power of two apart and fall
# into the same set of the L1 cache (measured: softmax over rows of 32 float32 logits ran 1.8
# times slower without it).
_PAD_BYTES = 64
_PAIRWISE_TERMS = 128  # numpy sums up to this many contiguous terms in one block (_pairwise_sum)
_SHORT_ROW_MIN_ROWS = 256  # fewer rows than this: the whole-array path is cheaper


class Limits(NamedTuple):
    """Where a function's schedule changes path (bytes of the working dtype): a last axis of at
    most ``short_row_bytes`` goes to transposed blocks, a larger array than ``blocks_from`` to
    blocks of rows."""

    short_row_bytes: int
    blocks_from: float


# Transposed blocks pay one copy in and one out (logsumexp and the loss's sum: in only) and save
# numpy's cost per row, which is highest for log_softmax (argmax and the first maximum's term,
# per row) and lowest for a plain sum. Each limit is the longest row for which the transposed
# block measured faster on the machine above (20000 rows): 16 float64 or 32 float32 entries for
# softmax, 24 or 48 for log_softmax, 32 or 64 for logsumexp, 12 float64 for the sum (24 float32
# measured even). Blocks of rows: logsumexp and log_softmax save a temporary of the size of z
# that way, as soon as there are two blocks; softmax has none to save and gains only once z and
# its result outgrow the L3 cache.
LIMITS = {
    "softmax": Limits(short_row_bytes=128, blocks_from=_L3_BYTES // 2),
    "log_softmax": Limits(short_row_bytes=192, blocks_from=_ROW_BLOCK_BYTES),
    "logsumexp": Limits(short_row_bytes=256, blocks_from=_ROW_BLOCK_BYTES),
    "sum": Limits(short_row_bytes=96, blocks_from=np.inf),
}
# Rows at least this long run their broadcasts one row at a time (`_row_loops`): measured on the
# machine above, the crossover lies between 128 and 200 float64 and at about 256 float32.
_ROW_LOOP_BYTES = 1 << 10


class Plan(NamedTuple):
    """How `run` splits an array: ``path`` is "whole", "rows" (blocks of rows) or "columns"
    (transposed blocks of rows), ``rows`` the number of rows per block (for "whole", the number
    of slices: all of them are done at once)."""

    path: str
    rows: int


def plan(work: np.ndarray, axis: int, limits: Limits, out: np.ndarray | None = None) -> Plan:
    """The schedule for reducing ``work`` along ``axis`` (results in ``out``, if given).

    A short last axis (``limits.short_row_bytes``) goes to transposed blocks, a longer one to blocks
    of rows if ``work`` has more than ``limits.blocks_from`` bytes; anything else (another axis,
    another layout) runs whole.
    """
    n = work.shape[axis]
    short = (0 < n <= _PAIRWISE_TERMS and n * work.itemsize <= limits.short_row_bytes
             and work.size // n >= _SHORT_ROW_MIN_ROWS)
    blocked = short or work.nbytes > limits.blocks_from
    contiguous = work.flags.c_contiguous and (out is None or out.flags.c_contiguous)
    if axis != work.ndim - 1 or not contiguous or not blocked:
        return Plan("whole", work.size // n if n else 0)
    block_bytes = _COLUMN_BLOCK_BYTES if short else _ROW_BLOCK_BYTES
    rows_per_block = max(1, min(work.size // n, block_bytes // (n * work.itemsize)))
    return Plan("columns" if short else "rows", rows_per_block)


Body = Callable[[np.ndarray, "np.ndarray | None", "Slices | Columns"], np.ndarray]


def run(work: np.ndarray, axis: int, body: Body, limits: Limits, out: np.ndarray | None = None,
        *, scratch: bool = True) -> np.ndarray:
    """Apply ``body`` to the non-empty ``work`` along ``axis`` as `plan` says; return its
    per-slice values with the reduced axis kept (length 1), whichever way the work was split.

    The body writes into ``out`` (the shape of ``work``); without ``out`` into scratch space, or
    nowhere (``None``) if ``scratch`` is false. ``work`` is never written.
    """
    path, step = plan(work, axis, limits, out)
    if path == "whole":
        return body(work, np.empty_like(work) if out is None and scratch else out, Slices(axis))
    n = work.shape[axis]
    rows = work.reshape(-1, n)
    total = rows.shape[0]
    out_rows = None if out is None else out.reshape(rows.shape)
    if path == "columns":  # float16 is only summed here: in float32, as numpy does, rounded once
        dtype = working_dtype(rows)
        buffer = np.empty((n, step + _PAD_BYTES // dtype.itemsize), dtype)[:, :step]
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
    return run(x, x.ndim - 1, lambda source, _, along: along.sum(source), LIMITS["sum"],
               scratch=False)


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
        flat = _flat_positions(z, k, self.axis)
        if flat is not None:
            return z.reshape(-1)[flat].reshape(k.shape), k
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
        flat = _flat_positions(terms, first, self.axis)
        if flat is not None:
            terms.reshape(-1)[flat] = 0
        else:
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


def _flat_positions(array: np.ndarray, k: np.ndarray, axis: int) -> np.ndarray | None:
    """Where the entries ``k`` (one index per slice along ``axis``, the axis kept) lie in the
    flattened ``array``, if ``axis`` is the last one of a C-contiguous array; else ``None``.

    Indexing the flattened array reads and writes the same entries as ``take_along_axis`` and
    ``put_along_axis`` with less of numpy's cost per row (it only moves numbers: the same bits).
    """
    n = array.shape[axis] if array.ndim else 0
    if axis != array.ndim - 1 or not array.flags.c_contiguous or n == 0:
        return None
    return k.reshape(-1) + np.arange(0, array.size, n)


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
