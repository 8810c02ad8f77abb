"""The benchmark script's own checks, on small arrays (no timing here: speed is measured only by
benchmarks/bench_softmax.py itself). They keep the script from rotting between runs: its
correctness check and its "floor" function must keep agreeing with softmaxnotes."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from booktools import REPO


def load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_softmax", REPO / "benchmarks" / "bench_softmax.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = load_benchmark()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(40, 7), (3, 50_000)])  # the second spans two floor chunks
def test_check_same_results_passes_on_small_arrays(shape, dtype):
    rng = np.random.default_rng(1)
    z = (rng.standard_normal(shape) * 4).astype(dtype)
    target = rng.integers(0, shape[-1], size=shape[0])
    bench.check_same_results(z, target)


def test_flat_passes_is_a_softmax_of_each_chunk():
    z = np.arange(10.0).reshape(2, 5)
    out = bench.flat_passes(z, chunk=4)  # chunks: entries 0-3, 4-7, 8-9
    flat = out.reshape(-1)
    for chunk in (flat[0:4], flat[4:8], flat[8:10]):
        assert chunk.sum() == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(flat[8:10], np.exp([0.0, 1.0]) / np.exp([0.0, 1.0]).sum(), rtol=1e-15)


def test_check_same_results_fails_when_softmax_is_off_by_one_ulp(monkeypatch):
    z = np.random.default_rng(2).standard_normal((30, 6))
    target = np.zeros(30, dtype=int)
    real = bench.sn.softmax
    monkeypatch.setattr(bench.sn, "softmax", lambda x, axis=-1: np.nextafter(real(x, axis=axis), 2))
    with pytest.raises(AssertionError):
        bench.check_same_results(z, target)
