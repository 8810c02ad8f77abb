"""The fast paths of softmaxnotes/_schedule.py, which runs the formulas of softmaxnotes.stable
(blocks of short rows copied transposed, blocks of rows on large arrays), give the same numbers as
the plain formulas, and each size threshold sends an array to the path it promises.

They only run on arrays of at least a few hundred rows or a few MiB, which the other tests rarely
build. Chapter 6 relies on ``sn.softmax`` being exactly exp(z - max) / sum(exp(z - max)).
"""

from __future__ import annotations

import numpy as np
import pytest

import softmaxnotes as sn
from softmaxnotes import _schedule
from softmaxnotes._schedule import LIMITS, Plan

SHAPES = [(300, 3), (1000, 10), (513, 24), (600, 48), (257, 100), (40, 70000)]


def reference_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=-1, keepdims=True)
    e = np.exp(z - m)
    return e / e.sum(axis=-1, keepdims=True)


def max_and_log1p_rest(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """m and log1p(sum of the other terms), the first maximum's term left out (finite rows)."""
    k = np.argmax(z, axis=-1)[:, None]
    m = np.take_along_axis(z, k, axis=-1)
    e = np.exp(z - m)
    np.put_along_axis(e, k, 0, axis=-1)
    return m, np.log1p(e.sum(axis=-1, keepdims=True))


def logits(shape: tuple[int, int], dtype: type, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    z = (rng.standard_normal(shape) * 5).astype(dtype)
    z[::7, 0] = z[::7, -1]  # ties of the maximum in some rows
    z[::11] = np.round(z[::11])  # many exact ties
    return z


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_fast_softmax_is_exactly_the_shifted_formula(shape, dtype):
    z = logits(shape, dtype, seed=shape[0] + shape[1])
    result = sn.softmax(z)
    assert result.dtype == dtype
    np.testing.assert_array_equal(result, reference_softmax(z))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_fast_logsumexp_and_log_softmax_match_the_log1p_formula(shape, dtype):
    z = logits(shape, dtype, seed=2 * shape[0] + shape[1])
    m, log1p_rest = max_and_log1p_rest(z)
    lse = (m + log1p_rest)[:, 0]
    assert np.all(np.abs(sn.logsumexp(z) - lse) <= 2 * np.spacing(np.abs(lse)))
    reference = (z - m) - log1p_rest  # the package's log_softmax formula
    assert np.all(np.abs(sn.log_softmax(z) - reference) <= 2 * np.spacing(np.abs(reference)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_paths_keep_the_edge_cases_of_each_row_to_that_row(dtype):
    """-inf, +inf and nan rows inside a large batch of short rows: each row as the small path
    computes it alone."""
    z = logits((1000, 10), dtype, seed=5)
    z[3, 2] = -np.inf
    z[10, :] = -np.inf
    z[20, 4] = np.inf
    z[30, 1] = np.nan
    for function in (sn.softmax, sn.log_softmax, sn.logsumexp):
        batch = function(z)
        for row in (3, 10, 20, 30, 40):
            np.testing.assert_array_equal(batch[row], function(z[row]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fast_cross_entropy_grad_matches_small_batches(dtype):
    z = logits((2000, 10), dtype, seed=9)
    target = np.random.default_rng(9).integers(0, 10, size=2000)
    batch = sn.cross_entropy_grad(z, target)
    for row in (0, 1, 999, 1999):
        np.testing.assert_array_equal(batch[row], sn.cross_entropy_grad(z[row], int(target[row])))
    assert np.all(batch[np.arange(2000), target] <= 0) and np.all(batch[np.arange(2000), target] >= -1)


# --------------------------------------------------------------------------------------------------
# Every scheduled path, through shapes that cross each size threshold of softmaxnotes/_schedule.py
#
# The schedule decides only the speed: each path must give the bits of the plain formulas, and each
# threshold must send an array to the path it promises (a wrong threshold gives right numbers
# slowly, which only the `plan` spy below can see). Thresholds, as in _schedule.py (bytes of the
# working dtype, float16 computed in float32): a last axis of at most 128 bytes (softmax), 192
# (log_softmax), 256 (logsumexp) or 96 (the loss's sum) with at least 256 rows goes to transposed
# blocks ("columns") of 512 KiB, each of their rows followed by a spare cache line; a larger array
# than 4 MiB (logsumexp, log_softmax) or 16 MiB (softmax) to blocks of rows of 4 MiB; rows of at
# least 1 KiB run their broadcasts one row at a time.
# --------------------------------------------------------------------------------------------------

COLUMN_BLOCK = _schedule._COLUMN_BLOCK_BYTES
ROW_BLOCK = _schedule._ROW_BLOCK_BYTES
PAD = _schedule._PAD_BYTES


def test_the_thresholds_are_the_ones_these_tests_were_written_for():
    """The shapes below sit at these limits; if a limit moves, move the shapes with it."""
    assert (COLUMN_BLOCK, ROW_BLOCK, PAD) == (1 << 19, 4 << 20, 64)
    assert {name: tuple(limits) for name, limits in LIMITS.items()} == {
        "softmax": (128, 16 << 20), "log_softmax": (192, 4 << 20), "logsumexp": (256, 4 << 20),
        "sum": (96, np.inf)}
    assert _schedule._SHORT_ROW_MIN_ROWS == 256 and _schedule._ROW_LOOP_BYTES == 1024


def batch(shape: tuple[int, ...], dtype, seed: int) -> np.ndarray:
    """Logits of any shape, rows along the last axis: a tie for the maximum in every 5th row (its
    last entry set to the row's maximum), all entries equal in every 13th, many exact ties (every
    11th row rounded) and every 17th row dominated by its first entry, 120 (the others are normal
    with standard deviation 5)."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape) * 5
    rows = z.reshape(-1, shape[-1])
    rows[::5, -1] = rows[::5].max(axis=-1)
    rows[::11] = np.round(rows[::11])
    rows[::13] = 1.5
    rows[3::17, 0] = 120.0
    return z.astype(dtype)


def plain_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(z - max) / sum, numpy's own reductions (pairwise along a contiguous last axis); float16
    computed in float32 and rounded once, as the package promises."""
    if z.dtype == np.float16:
        return plain_softmax(z.astype(np.float32), axis).astype(np.float16)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def plain_log1p(z: np.ndarray, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """(logsumexp with the axis kept, log_softmax) by the package's formula m + log1p(s), s the sum
    of the other terms (the first maximum's left out), written with numpy's own reductions."""
    if z.dtype == np.float16:
        lse, log_a = plain_log1p(z.astype(np.float32), axis)
        return lse.astype(np.float16), log_a.astype(np.float16)
    k = np.argmax(z, axis=axis, keepdims=True)
    m = np.take_along_axis(z, k, axis=axis)
    e = np.exp(z - m)
    np.put_along_axis(e, k, 0, axis=axis)
    log1p_rest = np.log1p(e.sum(axis=axis, keepdims=True))
    return m + log1p_rest, (z - m) - log1p_rest


def assert_bits(ours: np.ndarray, reference: np.ndarray) -> None:
    assert ours.dtype == reference.dtype and ours.shape == reference.shape
    np.testing.assert_array_equal(ours, reference, strict=True)


def working_itemsize(dtype) -> int:
    return 4 if dtype == np.float16 else np.dtype(dtype).itemsize


def block_rows(dtype, n: int) -> int:
    """Rows per transposed block for rows of n entries (float16 is computed in float32)."""
    return COLUMN_BLOCK // (n * working_itemsize(dtype))


# shapes around each threshold of the transposed path: bytes per row (128: 16 float64 or 32
# float32 for softmax; 192: 24 or 48 for log_softmax; 256: 32 or 64 for logsumexp), rows (256),
# numpy's pairwise order (below 8 terms, 8 accumulators, the n mod 8 tail), power-of-two rows (the
# spare cache line), blocks (full, partial last block), and 3-D to 6-D arrays reduced along their
# last axis
SHORT_ROW_SHAPES = {
    np.float64: [(255, 24), (256, 24), (257, 24), (256, 23), (256, 25), (255, 1), (256, 1),
                 (300, 2), (300, 7), (300, 8), (300, 9), (300, 15), (300, 16), (300, 17),
                 (256, 32), (256, 33), (255, 32), (4097, 16), (4095, 16), (2049, 32),
                 (6553, 10), (6554, 10), (2 * 6553 + 1, 10), (2731, 24), (65537, 1),
                 (16, 16, 10), (3, 5, 17, 24), (2, 3, 7, 11, 8), (7, 937, 10), (2, 2, 2, 2, 16, 9),
                 (2, 2049, 16), (3, 3, 29, 32)],
    np.float32: [(255, 48), (256, 48), (257, 48), (256, 47), (256, 49), (255, 1), (300, 1),
                 (300, 8), (300, 40), (256, 32), (256, 33), (256, 64), (256, 65), (4097, 32),
                 (2049, 64), (2731, 48), (5462, 24), (2, 3, 4, 5, 6, 48), (3, 911, 48),
                 (2, 5, 411, 64)],
    np.float16: [(255, 48), (256, 48), (256, 49), (256, 32), (256, 33), (256, 64), (256, 65),
                 (300, 8), (2731, 48), (4097, 32), (16, 16, 10)],
}
SHORT_ROW_CASES = [(dtype, shape) for dtype, shapes in SHORT_ROW_SHAPES.items() for shape in shapes]
SHORT_ROW_IDS = [f"{np.dtype(d).name}-{'x'.join(map(str, s))}" for d, s in SHORT_ROW_CASES]


@pytest.mark.parametrize("dtype,shape", SHORT_ROW_CASES, ids=SHORT_ROW_IDS)
def test_short_rows_give_the_bits_of_the_plain_formulas(dtype, shape):
    z = batch(shape, dtype, seed=sum(shape))
    assert_bits(sn.softmax(z), plain_softmax(z))
    lse, log_a = plain_log1p(z)
    assert_bits(sn.logsumexp(z, keepdims=True), lse)
    assert_bits(sn.log_softmax(z), log_a)


# arrays around each function's threshold for blocks of rows (1024 float64 entries per row: 512
# rows per 4 MiB block, so one row above a threshold makes a partial last block of one row), rows
# longer than a block (one row per block), and 3-D arrays
ROW_BLOCK_CASES = [
    ("logsumexp", np.float64, (512, 1024)), ("logsumexp", np.float64, (513, 1024)),
    ("logsumexp", np.float32, (1025, 1024)), ("logsumexp", np.float64, (3, 171, 1024)),
    ("logsumexp", np.float64, (2, 600000)), ("logsumexp", np.float16, (1100, 1024)),
    ("log_softmax", np.float64, (512, 1024)), ("log_softmax", np.float64, (513, 1024)),
    ("log_softmax", np.float32, (1537, 1024)), ("log_softmax", np.float64, (2, 600000)),
    ("log_softmax", np.float16, (1100, 1024)),
    ("softmax", np.float64, (2048, 1024)), ("softmax", np.float64, (2049, 1024)),
    ("softmax", np.float32, (4097, 1024)), ("softmax", np.float64, (2, 33, 64000)),
    ("softmax", np.float64, (4, 550000)),
]
ROW_BLOCK_IDS = [f"{f}-{np.dtype(d).name}-{'x'.join(map(str, s))}" for f, d, s in ROW_BLOCK_CASES]


@pytest.mark.parametrize("name,dtype,shape", ROW_BLOCK_CASES, ids=ROW_BLOCK_IDS)
def test_blocks_of_rows_give_the_bits_of_the_plain_formulas(name, dtype, shape):
    z = batch(shape, dtype, seed=len(name) + shape[0])
    if name == "softmax":
        assert_bits(sn.softmax(z), plain_softmax(z))
    else:
        lse, log_a = plain_log1p(z)
        if name == "logsumexp":
            assert_bits(sn.logsumexp(z, keepdims=True), lse)
        else:
            assert_bits(sn.log_softmax(z), log_a)


# the whole-array path: other axes (some of which would be "short rows" if they were the last one),
# and layouts that are not C-contiguous along the last axis
OTHER_AXIS_CASES = [((10, 3000), 0), ((24, 300), 0), ((10, 30, 100), 0), ((10, 30, 100), 1),
                    ((7, 9, 11, 13), 2), ((300, 10), 0)]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", OTHER_AXIS_CASES,
                         ids=[f"{s}-axis{a}" for s, a in OTHER_AXIS_CASES])
def test_other_axes_give_the_bits_of_the_plain_formulas(shape, axis, dtype):
    rows_along_axis = batch(shape[:axis] + shape[axis + 1 :] + (shape[axis],), dtype, seed=axis)
    z = np.ascontiguousarray(np.moveaxis(rows_along_axis, -1, axis))
    assert_bits(sn.softmax(z, axis=axis), plain_softmax(z, axis))
    lse, log_a = plain_log1p(z, axis)
    assert_bits(sn.logsumexp(z, axis=axis, keepdims=True), lse)
    assert_bits(sn.log_softmax(z, axis=axis), log_a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["fortran", "transposed", "strided", "row_slice"])
def test_non_contiguous_layouts_give_the_bits_of_the_plain_formulas(layout, dtype):
    base = batch((600, 48), dtype, seed=3)
    z = {"fortran": np.asfortranarray(base), "transposed": base.T, "strided": base[:, ::2],
         "row_slice": base[::2]}[layout]
    for axis in (-1, 0):
        assert_bits(sn.softmax(z, axis=axis), plain_softmax(z, axis))
        lse, log_a = plain_log1p(z, axis)
        assert_bits(sn.logsumexp(z, axis=axis, keepdims=True), lse)
        assert_bits(sn.log_softmax(z, axis=axis), log_a)


EDGE_CASES = [(np.float64, (257, 24)), (np.float64, (2 * 6553 + 1, 10)), (np.float32, (2731, 48)),
              (np.float16, (300, 48)), (np.float64, (513, 1024)), (np.float64, (3, 5, 17, 24)),
              (np.float64, (4097, 16)), (np.float32, (2049, 64))]


@pytest.mark.parametrize("dtype,shape", EDGE_CASES,
                         ids=[f"{np.dtype(d).name}-{s}" for d, s in EDGE_CASES])
def test_edge_rows_at_block_boundaries_are_computed_as_alone(dtype, shape):
    """-inf, all -inf, +inf, two +inf and nan rows at the first and last row of blocks (and of the
    batch): each row gives what the whole-array path gives for that row alone."""
    z = batch(shape, dtype, seed=11)
    rows = z.reshape(-1, shape[-1])
    total = rows.shape[0]
    steps = {block_rows(dtype, shape[-1]), ROW_BLOCK // (shape[-1] * working_itemsize(dtype))}
    picked = sorted({0, 1, 2, 3, 4, total - 2, total - 1}
                    | {min(row, total - 1) for step in steps for row in (step - 1, step)})
    for row, kind in zip(picked, ["-inf", "all -inf", "+inf", "two +inf", "nan"] * 3, strict=False):
        rows[row, 1] = {"-inf": -np.inf, "all -inf": -np.inf, "+inf": np.inf, "two +inf": np.inf,
                        "nan": np.nan}[kind]
        if kind == "all -inf":
            rows[row] = -np.inf
        if kind == "two +inf":
            rows[row, -1] = np.inf
    for function in (sn.softmax, sn.log_softmax, sn.logsumexp):
        together = function(z).reshape(total, -1)
        for row in picked + [5, total // 2]:
            alone = np.atleast_1d(function(rows[row]))
            np.testing.assert_array_equal(together[row], alone, strict=True)


CE_CASES = [(np.float64, (255, 10)), (np.float64, (256, 10)), (np.float64, (6554, 10)),
            (np.float64, (256, 12)), (np.float64, (256, 13)), (np.float64, (256, 24)),
            (np.float32, (256, 24)), (np.float32, (256, 25)), (np.float32, (2731, 24)),
            (np.float32, (256, 49)), (np.float16, (256, 48)), (np.float16, (256, 49)),
            (np.float16, (3000, 8))]


@pytest.mark.parametrize("dtype,shape", CE_CASES,
                         ids=[f"{np.dtype(d).name}-{s}" for d, s in CE_CASES])
def test_cross_entropy_grad_gives_the_bits_of_the_plain_formula(dtype, shape):
    """a - y with a_c - 1 computed as -min(sum of the other a_k, 1), the sum in numpy's order (in
    float32 for float16, rounded once): the short-row sum of the loss module, at its limits (96
    bytes per row: 12 float64, 24 float32, 48 float16 entries)."""
    z = batch(shape, dtype, seed=shape[0])
    target = np.random.default_rng(shape[1]).integers(0, shape[1], size=shape[0])
    grad = plain_softmax(z)
    np.put_along_axis(grad, target[:, None], 0, axis=-1)
    others = grad.sum(axis=-1, keepdims=True)
    np.put_along_axis(grad, target[:, None], -np.minimum(others, 1), axis=-1)
    assert_bits(sn.cross_entropy_grad(z, target), grad)


# --------------------------------------------------------------------------------------------------
# Which path each array takes
# --------------------------------------------------------------------------------------------------


@pytest.fixture
def plans(monkeypatch) -> list[Plan]:
    """The plans `_schedule.run` follows, in order, while the test runs."""
    seen: list[Plan] = []
    real = _schedule.plan

    def spy(*args, **kwargs):
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(_schedule, "plan", spy)
    return seen


F64, F32, F16 = np.float64, np.float32, np.float16
ALL = ("softmax", "log_softmax", "logsumexp")
LOGS = ("log_softmax", "logsumexp")
SM, LSM, LSE = ("softmax",), ("log_softmax",), ("logsumexp",)
PLAN_CASES = [
    # short rows and at least 256 rows, whatever the number of dimensions; 512 KiB per
    # transposed block. softmax: at most 128 bytes (16 float64, 32 float32 or float16)
    (ALL, F64, (256, 16), "c", -1, Plan("columns", 256)),
    (ALL, F64, (255, 16), "c", -1, Plan("whole", 255)),
    (SM, F64, (256, 17), "c", -1, Plan("whole", 256)),
    (LOGS, F64, (256, 17), "c", -1, Plan("columns", 256)),
    (ALL, F32, (256, 32), "c", -1, Plan("columns", 256)),
    (SM, F32, (256, 33), "c", -1, Plan("whole", 256)),
    (ALL, F16, (256, 32), "c", -1, Plan("columns", 256)),
    (SM, F16, (256, 33), "c", -1, Plan("whole", 256)),
    (ALL, F64, (4097, 16), "c", -1, Plan("columns", 4096)),
    # log_softmax: at most 192 bytes (24 float64, 48 float32)
    (LOGS, F64, (256, 24), "c", -1, Plan("columns", 256)),
    (LOGS, F64, (257, 24), "c", -1, Plan("columns", 257)),
    (LOGS, F64, (255, 24), "c", -1, Plan("whole", 255)),
    (LSM, F64, (256, 25), "c", -1, Plan("whole", 256)),
    (LSM, F32, (256, 48), "c", -1, Plan("columns", 256)),
    (LSM, F32, (256, 49), "c", -1, Plan("whole", 256)),
    (LSM, F16, (256, 48), "c", -1, Plan("columns", 256)),
    (LSM, F16, (256, 49), "c", -1, Plan("whole", 256)),
    (LSM, F32, (2731, 48), "c", -1, Plan("columns", 2730)),
    # logsumexp: at most 256 bytes (32 float64, 64 float32)
    (LSE, F64, (256, 32), "c", -1, Plan("columns", 256)),
    (LSE, F64, (256, 33), "c", -1, Plan("whole", 256)),
    (LSE, F32, (256, 64), "c", -1, Plan("columns", 256)),
    (LSE, F32, (256, 65), "c", -1, Plan("whole", 256)),
    (LSE, F16, (256, 64), "c", -1, Plan("columns", 256)),
    (LSE, F16, (256, 65), "c", -1, Plan("whole", 256)),
    (LSE, F64, (2049, 32), "c", -1, Plan("columns", 2048)),
    (("softmax", "log_softmax"), F64, (256, 32), "c", -1, Plan("whole", 256)),
    # any number of dimensions, partial last blocks
    (ALL, F64, (256, 1), "c", -1, Plan("columns", 256)),
    (ALL, F64, (16, 16, 10), "c", -1, Plan("columns", 256)),
    (ALL, F64, (3, 5, 17, 10), "c", -1, Plan("whole", 255)),
    (ALL, F64, (2, 3, 7, 11, 8), "c", -1, Plan("columns", 462)),
    (ALL, F64, (2 * 6553 + 1, 10), "c", -1, Plan("columns", 6553)),
    (ALL, F64, (2, 2049, 16), "c", -1, Plan("columns", 4096)),
    (ALL, F64, (65537, 1), "c", -1, Plan("columns", 65536)),
    # another axis, or not C-contiguous along the last one: the whole array
    (ALL, F64, (16, 300), "c", 0, Plan("whole", 300)),  # 300 slices of 16
    (ALL, F64, (300, 16), "f", -1, Plan("whole", 300)),
    (ALL, F64, (300, 16), "strided", -1, Plan("whole", 300)),
    # blocks of rows of 4 MiB: more than 4 MiB (logsumexp, log_softmax), 16 MiB (softmax)
    (LOGS, F64, (512, 1024), "c", -1, Plan("whole", 512)),
    (LOGS, F64, (513, 1024), "c", -1, Plan("rows", 512)),
    (LOGS, F32, (1025, 1024), "c", -1, Plan("rows", 1024)),
    (LOGS, F16, (1025, 1024), "c", -1, Plan("rows", 1024)),  # computed in float32
    (LOGS, F64, (3, 171, 1024), "c", -1, Plan("rows", 512)),
    (LOGS, F64, (2, 600000), "c", -1, Plan("rows", 1)),
    (LOGS, F64, (513, 1024), "f", -1, Plan("whole", 513)),
    (SM, F64, (513, 1024), "c", -1, Plan("whole", 513)),
    (SM, F64, (2048, 1024), "c", -1, Plan("whole", 2048)),
    (SM, F64, (2049, 1024), "c", -1, Plan("rows", 512)),
    (SM, F32, (4097, 1024), "c", -1, Plan("rows", 1024)),
    (SM, F64, (2, 33, 64000), "c", -1, Plan("rows", 8)),
]


def layout(z: np.ndarray, kind: str) -> np.ndarray:
    if kind == "f":
        return np.asfortranarray(z)
    if kind == "strided":
        return np.repeat(z, 2, axis=-1)[..., ::2]
    return z


@pytest.mark.parametrize("names,dtype,shape,kind,axis,expected", PLAN_CASES,
                         ids=[f"{'-'.join(c[0]) if len(c[0]) < 3 else 'all'}-{np.dtype(c[1]).name}-"
                              f"{'x'.join(map(str, c[2]))}-{c[3]}-axis{c[4]}" for c in PLAN_CASES])
def test_each_threshold_sends_the_array_to_its_path(plans, names, dtype, shape, kind, axis,
                                                    expected):
    z = layout(np.zeros(shape, dtype), kind)
    for name in names:
        plans.clear()
        getattr(sn, name)(z, axis=axis)
        assert plans == [expected], name


@pytest.mark.parametrize("dtype,shape,softmax_plan,sum_plan", [
    (F64, (256, 10), Plan("columns", 256), Plan("columns", 256)),
    (F64, (255, 10), Plan("whole", 255), Plan("whole", 255)),
    # the sum: at most 96 bytes (12 float64, 24 float32, 48 float16: the loss sums the float16
    # result, while softmax computes in float32)
    (F64, (256, 12), Plan("columns", 256), Plan("columns", 256)),
    (F64, (256, 13), Plan("columns", 256), Plan("whole", 256)),
    (F32, (256, 24), Plan("columns", 256), Plan("columns", 256)),
    (F32, (256, 25), Plan("columns", 256), Plan("whole", 256)),
    (F16, (256, 48), Plan("whole", 256), Plan("columns", 256)),
    (F16, (256, 49), Plan("whole", 256), Plan("whole", 256)),
    (F64, (2049, 1024), Plan("rows", 512), Plan("whole", 2049)),  # the sum is never blocked by rows
])
def test_cross_entropy_grad_sums_short_rows_in_transposed_blocks(plans, dtype, shape, softmax_plan,
                                                                  sum_plan):
    sn.cross_entropy_grad(np.zeros(shape, dtype), np.zeros(shape[0], dtype=int))
    assert plans == [softmax_plan, sum_plan]


@pytest.mark.parametrize("dtype,n,looped", [(F64, 127, False), (F64, 128, True), (F64, 129, True),
                                            (F32, 255, False), (F32, 256, True)])
def test_rows_of_1_kib_run_their_broadcasts_one_row_at_a_time(dtype, n, looped):
    default = np.getbufsize()
    with _schedule._row_loops(np.empty((3, n), dtype), 1):
        inside = np.getbufsize()
    assert (inside == 16) == looped and (inside == default) != looped
    with _schedule._row_loops(np.empty((3, 3, n), dtype), 1):  # not the last axis
        assert np.getbufsize() == default
    assert np.getbufsize() == default


def test_row_loops_restore_the_buffer_size_after_an_error():
    default = np.getbufsize()
    with pytest.raises(ZeroDivisionError), _schedule._row_loops(np.empty((2, 128)), 1):
        1 / 0
    assert np.getbufsize() == default


class NumpyProbe:
    """numpy, as _schedule sees it, with the calls named in ``record`` recorded (name, buffer
    size, positional arguments)."""

    def __init__(self, *record: str) -> None:
        self.seen: list[tuple[str, int, tuple]] = []
        for name in record:
            setattr(self, name, self._recorder(name))

    def _recorder(self, name: str):
        def call(*args, **kwargs):
            self.seen.append((name, np.getbufsize(), args))
            return getattr(np, name)(*args, **kwargs)
        return call

    def __getattr__(self, attribute):
        return getattr(np, attribute)


@pytest.mark.parametrize("name,dtype,shape,looped", [
    ("softmax", F64, (300, 128), True), ("softmax", F64, (300, 127), False),
    ("log_softmax", F32, (300, 256), True), ("log_softmax", F32, (300, 255), False),
    ("logsumexp", F64, (513, 1024), True),  # two blocks of rows of 8 KiB
])
def test_broadcasts_along_long_rows_run_with_a_short_buffer(monkeypatch, name, dtype, shape,
                                                            looped):
    """The row loops change only the speed, so the bits cannot tell; the buffer size each
    broadcast of the schedule runs with can."""
    probe = NumpyProbe("subtract", "divide")
    monkeypatch.setattr(_schedule, "np", probe)
    getattr(sn, name)(batch(shape, dtype, seed=1))
    expected = {"softmax": ["subtract", "divide"], "log_softmax": ["subtract", "subtract"],
                "logsumexp": ["subtract"] * 2}[name]
    assert [operation for operation, _, _ in probe.seen] == expected
    assert {size for _, size, _ in probe.seen} == ({16} if looped else {np.getbufsize()})


@pytest.mark.parametrize("name,dtype,n", [("logsumexp", F64, 32), ("softmax", F64, 16),
                                          ("softmax", F32, 32), ("log_softmax", F64, 10),
                                          ("softmax", F16, 32)])
def test_transposed_blocks_have_a_spare_cache_line_per_row(monkeypatch, name, dtype, n):
    """The buffer of a transposed block is (n, rows + one cache line of entries), so that rows
    of a power-of-two length do not map one logit row into one cache set; only the speed can
    tell, and the buffer's shape."""
    probe = NumpyProbe("empty")
    monkeypatch.setattr(_schedule, "np", probe)
    z = batch((2 * block_rows(dtype, n) + 3, n), dtype, seed=n)
    getattr(sn, name)(z)
    itemsize = working_itemsize(dtype)
    assert ((n, block_rows(dtype, n) + PAD // itemsize),) in [args[:1] for *_, args in probe.seen]
    # and the padding is not in the result: the same bits as the plain formulas
    if name == "softmax":
        assert_bits(sn.softmax(z), plain_softmax(z))


def test_flat_positions_only_for_the_last_axis_of_a_c_contiguous_array():
    z = batch((6, 7, 5), F64, seed=4)
    k = np.argmax(z, axis=-1, keepdims=True)
    flat = _schedule._flat_positions(z, k, 2)
    np.testing.assert_array_equal(z.reshape(-1)[flat], np.take_along_axis(z, k, -1).reshape(-1))
    assert _schedule._flat_positions(z, np.argmax(z, axis=1, keepdims=True), 1) is None
    assert _schedule._flat_positions(z[:, :, ::2], k[:, :, :1], 2) is None
    assert _schedule._flat_positions(np.asfortranarray(z), k, 2) is None
    assert _schedule._flat_positions(np.zeros((3, 0)), np.zeros((3, 1), int), 1) is None


@pytest.mark.parametrize("layout_kind", ["c", "strided"])
def test_the_first_maximum_is_found_and_left_out_on_either_path(layout_kind):
    """Slices.first_max and exp_except_first_max through flat positions (C-contiguous) and
    through take/put_along_axis (any other layout) pick the same, first, maximum of each row."""
    z = layout(batch((40, 9), F64, seed=8), layout_kind)
    z[0] = 2.0  # all tied: the first entry is the maximum
    along = _schedule.Slices(1)
    m, k = along.first_max(z)
    np.testing.assert_array_equal(k[:, 0], np.argmax(z, axis=-1))
    np.testing.assert_array_equal(m[:, 0], z.max(axis=-1))
    shifted = z - m
    dest = layout(np.empty(z.shape), layout_kind)  # strided: put_along_axis, not flat positions
    terms = along.exp_except_first_max(shifted, k, out=dest)
    expected = np.exp(shifted)
    np.put_along_axis(expected, k, 0, axis=-1)
    assert_bits(terms, expected)
    assert terms[0, 0] == 0 and np.all(terms[0, 1:] == 1)
