"""Benchmark softmaxnotes against scipy.special, and the VJP against the full Jacobian.

Run from the repository root:   .venv/bin/python benchmarks/bench_softmax.py

Everything is measured in one process. For each shape and dtype the candidates are timed
interleaved (one run of each, in turn, repeated), so that a slow patch of the machine hits all of
them alike; the table shows medians and ratios of medians from the same run. Before an array is
timed, the results on it are checked against the plain formulas (check_same_results). No timing is
asserted anywhere in the test suite: speed lives here, accuracy lives in tests/.

Every candidate returns a new array of megabytes. With glibc's default settings such an array may
come from freshly mapped memory, whose first touch costs a page fault per 4 KiB page, charged to
whichever call happens to get it (a bare np.exp over a million float64 measured 0.8-0.9 ms with
warm memory and 1.7-2.3 ms with fresh pages). So, on glibc, the script first asks malloc to
keep freed memory (warm_allocator); --default-allocator measures without that.

The last column, "floor", is the time of softmax's five numpy passes (max, subtract, exp, sum,
divide) over cache-sized chunks of the flattened array, with no per-row work at all, relative to
np.exp (flat_passes): what any softmax made of numpy calls pays at least.

Chapter 6 ("Softmax in floating point") explains what the functions compute; chapter 2 ("The
Jacobian of softmax") derives the vector-Jacobian product.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import math
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np
import scipy
import scipy.special

import softmaxnotes as sn

SHAPES = [(1000, 1000), (10000, 100), (100, 100000), (200000, 10)]
DTYPES = [np.float64, np.float32]


def one_hot(target: np.ndarray, n: int, dtype: np.dtype) -> np.ndarray:
    y = np.zeros((target.size, n), dtype=dtype)
    y[np.arange(target.size), target] = 1
    return y


FLOOR_CHUNK = 1 << 17  # entries: 512 KiB of float32, 1 MiB of float64


def flat_passes(z: np.ndarray, chunk: int = FLOOR_CHUNK) -> np.ndarray:
    """numpy's five softmax passes (max, subtract, exp, sum, divide) with no per-row work: each
    chunk of ``chunk`` consecutive entries of the flattened ``z`` (small enough to stay in the
    cache) is treated as one distribution. A numpy softmax along the rows that computes the
    shifted formula makes the same passes and more (a max and a sum per row, per-row broadcasts),
    so this is the floor its time is compared with in the "floor" column."""
    flat = z.reshape(-1)
    out = np.empty_like(flat)
    for start in range(0, flat.size, chunk):
        part, dest = flat[start : start + chunk], out[start : start + chunk]
        np.subtract(part, part.max(), out=dest)
        np.exp(dest, out=dest)
        np.divide(dest, dest.sum(), out=dest)
    return out.reshape(z.shape)


def candidates(z: np.ndarray, target: np.ndarray) -> dict[str, Callable[[], object]]:
    """The timed calls, reducing along the last axis. scipy has no cross-entropy gradient: its
    counterpart is softmax(z) - Y with the one-hot Y built beforehand (not timed)."""
    y = one_hot(target, z.shape[-1], z.dtype)
    return {
        "np.exp": lambda: np.exp(z),
        "floor": lambda: flat_passes(z),
        "sn.softmax": lambda: sn.softmax(z, axis=-1),
        "scipy.softmax": lambda: scipy.special.softmax(z, axis=-1),
        "sn.log_softmax": lambda: sn.log_softmax(z, axis=-1),
        "scipy.log_softmax": lambda: scipy.special.log_softmax(z, axis=-1),
        "sn.logsumexp": lambda: sn.logsumexp(z, axis=-1),
        "scipy.logsumexp": lambda: scipy.special.logsumexp(z, axis=-1),
        "sn.cross_entropy_grad": lambda: sn.cross_entropy_grad(z, target),
        "scipy.softmax - Y": lambda: scipy.special.softmax(z, axis=-1) - y,
    }


def interleaved_medians(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    for call in calls.values():  # warm up
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def check_same_results(z: np.ndarray, target: np.ndarray) -> None:
    """The fast paths must compute what the slow formulas do: sn.softmax bit for bit the shifted
    formula of chapter 6, the others within a few rounding errors of scipy (which is less accurate
    for log_softmax near 0). Checked on every benchmark array before it is timed."""
    with np.errstate(under="ignore"):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        shifted = e / e.sum(axis=-1, keepdims=True)
    np.testing.assert_array_equal(sn.softmax(z, axis=-1), shifted)
    floor, flat, chunk = flat_passes(z).reshape(-1), z.reshape(-1), FLOOR_CHUNK
    for start in range(0, flat.size, chunk):  # each chunk is a softmax of its own
        np.testing.assert_array_equal(floor[start : start + chunk], sn.softmax(flat[start : start + chunk]))
    tol = dict(rtol=64 * np.finfo(z.dtype).eps, atol=64 * np.finfo(z.dtype).eps)
    for ours, theirs in ((sn.log_softmax, scipy.special.log_softmax),
                         (sn.logsumexp, scipy.special.logsumexp)):
        np.testing.assert_allclose(ours(z, axis=-1), theirs(z, axis=-1), **tol)
    grad = shifted.copy()
    grad[np.arange(z.shape[0]), target] -= 1
    np.testing.assert_allclose(sn.cross_entropy_grad(z, target), grad, **tol)


def speed_table(repeats: int, seed: int) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    rows = []
    for shape in SHAPES:
        for dtype in DTYPES:
            z = (rng.standard_normal(shape) * 4).astype(dtype)
            target = rng.integers(0, shape[-1], size=shape[0])
            check_same_results(z, target)
            med = interleaved_medians(candidates(z, target), repeats)
            rows.append({
                "shape": f"{shape[0]}x{shape[1]}",
                "dtype": np.dtype(dtype).name,
                "exp_ms": med["np.exp"] * 1e3,
                "softmax_ms": med["sn.softmax"] * 1e3,
                "softmax": med["sn.softmax"] / med["scipy.softmax"],
                "log_softmax": med["sn.log_softmax"] / med["scipy.log_softmax"],
                "logsumexp": med["sn.logsumexp"] / med["scipy.logsumexp"],
                "ce_grad": med["sn.cross_entropy_grad"] / med["scipy.softmax - Y"],
                "softmax/exp": med["sn.softmax"] / med["np.exp"],
                "floor": med["floor"] / med["np.exp"],
            })
    return rows


def geometric_mean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def print_speed_table(rows: list[dict[str, object]]) -> None:
    print("Time of softmaxnotes / time of scipy.special (below 1: softmaxnotes is faster);")
    print("softmax/exp: sn.softmax / a bare np.exp over the same array; floor: numpy's five softmax")
    print("passes over cache-sized chunks of the flattened array, no per-row work / np.exp.\n")
    header = (f"| {'shape':>11} | {'dtype':>7} | {'np.exp ms':>9} | {'softmax ms':>10} | {'softmax':>7} "
              f"| {'log_softmax':>11} | {'logsumexp':>9} | {'ce_grad':>7} | {'softmax/exp':>11} "
              f"| {'floor':>5} |")
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for r in rows:
        print(f"| {r['shape']:>11} | {r['dtype']:>7} | {r['exp_ms']:9.2f} | {r['softmax_ms']:10.2f} "
              f"| {r['softmax']:7.2f} | {r['log_softmax']:11.2f} | {r['logsumexp']:9.2f} "
              f"| {r['ce_grad']:7.2f} | {r['softmax/exp']:11.2f} | {r['floor']:5.2f} |")
    gm = {key: geometric_mean([r[key] for r in rows]) for key in ("softmax", "log_softmax", "logsumexp", "ce_grad")}
    worst = {key: max(r[key] for r in rows) for key in gm}
    print(f"\nGeometric mean of the ratios: softmax {gm['softmax']:.2f}, log_softmax {gm['log_softmax']:.2f}, "
          f"logsumexp {gm['logsumexp']:.2f}, cross_entropy_grad {gm['ce_grad']:.2f}")
    print(f"Worst ratio:                  softmax {worst['softmax']:.2f}, log_softmax {worst['log_softmax']:.2f}, "
          f"logsumexp {worst['logsumexp']:.2f}, cross_entropy_grad {worst['ce_grad']:.2f}")


def peak_bytes(call: Callable[[], object]) -> int:
    tracemalloc.start()
    tracemalloc.reset_peak()
    call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def vjp_table(repeats: int, seed: int) -> None:
    """J^T v through the full Jacobian (n x n) against softmax_vjp (O(n)), one vector of logits."""
    rng = np.random.default_rng(seed)
    print("\nVector-Jacobian product J^T v for one vector of n logits (float64):\n")
    print(f"| {'n':>5} | {'via J ms':>9} | {'VJP ms':>8} | {'time ratio':>10} | {'via J peak MiB':>14} | {'VJP peak KiB':>12} |")
    print("|-------|-----------|----------|------------|----------------|--------------|")
    for n in (10, 100, 1000, 2000, 4000):
        z, v = rng.standard_normal(n), rng.standard_normal(n)
        calls = {"full": lambda: sn.softmax_jacobian(z).T @ v, "vjp": lambda: sn.softmax_vjp(z, v)}
        med = interleaved_medians(calls, repeats if n <= 1000 else max(3, repeats // 3))
        np.testing.assert_allclose(calls["full"](), calls["vjp"](), rtol=1e-9, atol=1e-15)
        print(f"| {n:5d} | {med['full'] * 1e3:9.3f} | {med['vjp'] * 1e3:8.3f} | {med['full'] / med['vjp']:10.0f} "
              f"| {peak_bytes(calls['full']) / 2**20:14.1f} | {peak_bytes(calls['vjp']) / 2**10:12.1f} |")


def warm_allocator() -> str:
    """Ask glibc's malloc to serve large arrays from memory it keeps instead of fresh pages from
    the kernel (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD); say what was done."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_mmap_threshold, 1 << 30) == 1 and libc.mallopt(m_trim_threshold, 1 << 30) == 1
    except (OSError, AttributeError, TypeError):
        ok = False
    return "warm memory (glibc mallopt)" if ok else "default allocator (mallopt unavailable)"


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    """The 1-minute load average (Unix), to tell a quiet machine from a busy one."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=25, help="timed runs per candidate (default 25)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--default-allocator", action="store_true",
                        help="do not call mallopt: output arrays may come from fresh pages")
    args = parser.parse_args()
    memory = "default allocator" if args.default_allocator else warm_allocator()
    print(f"Machine: {platform.machine()}, {cpu_model()}, "
          f"{os.cpu_count()} cores; Python {platform.python_version()}, "
          f"numpy {np.__version__}, scipy {scipy.__version__}, softmaxnotes {sn.__version__}; "
          f"{args.repeats} repeats; {memory}; load average {load_average()} at the start\n")
    print_speed_table(speed_table(args.repeats, args.seed))
    vjp_table(args.repeats, args.seed)
    print(f"\nLoad average {load_average()} at the end (other processes slow the medians down).")


if __name__ == "__main__":
    main()
