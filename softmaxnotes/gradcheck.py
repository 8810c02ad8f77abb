"""Finite-difference derivatives and the gradient check.

Introduced in chapter 2, "The Jacobian of softmax"; the choice of step is explained in chapter 6,
"Softmax in floating point".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array


def default_step(x: np.ndarray) -> np.ndarray:
    r"""Central-difference step :math:`h_j = \varepsilon^{1/3} \max(1, |x_j|)`, with
    :math:`\varepsilon` the float64 machine epsilon.

    Truncation error of a central difference is O(h^2) and round-off error O(eps/h); their sum is
    smallest near ``h = eps^(1/3)`` (about 6e-6), scaled with the size of ``x_j``.
    """
    x = as_float_array(x, "x")
    return np.cbrt(np.finfo(np.float64).eps) * np.maximum(1.0, np.abs(x))


def numerical_jacobian(
    f: Callable[[np.ndarray], ArrayLike], z: ArrayLike, eps: float | None = None
) -> np.ndarray:
    r"""Central-difference Jacobian :math:`J_{ij} \approx (f_i(z + h e_j) - f_i(z - h e_j)) / (2h)`.

    Introduced in chapter 2, "The Jacobian of softmax". Computed in float64 at the 1-D point ``z``.

    Parameters
    ----------
    f : callable mapping a float64 vector of shape (n,) to an array of m values (a scalar counts as
        m = 1).
    z : array_like, shape (n,)
    eps : float, optional
        The step. By default :func:`default_step` per coordinate. The step actually used is the
        representable difference ``(z_j + h) - (z_j - h)``, so the division is exact.

    Returns
    -------
    ndarray, shape (m, n).
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    point = as_float_array(z, "z").astype(np.float64)
    if point.ndim != 1:
        raise ValueError(f"z must be a 1-D point of shape (n,), got shape {point.shape}")
    if not np.all(np.isfinite(point)):
        raise ValueError("z must be finite to take finite differences")
    if eps is None:
        steps = default_step(point)
    else:
        if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)):
            raise TypeError(f"eps must be a positive number, got {eps!r}")
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be positive and finite, got {eps!r}")
        steps = np.full(point.shape, float(eps))
    columns = []
    for j, h in enumerate(steps):
        forward, backward = point.copy(), point.copy()
        forward[j] += h
        backward[j] -= h
        difference = np.asarray(f(forward), dtype=np.float64) - np.asarray(f(backward), dtype=np.float64)
        columns.append(difference.reshape(-1) / (forward[j] - backward[j]))
    return np.stack(columns, axis=-1) if columns else np.zeros((np.size(f(point)), 0))


def numerical_gradient(
    f: Callable[[np.ndarray], ArrayLike], x: ArrayLike, eps: float | None = None
) -> np.ndarray:
    r"""Central-difference gradient of a scalar function of an array of any shape.

    Used in chapter 4 for ``dL/dW`` (a matrix). Equal to :func:`numerical_jacobian` of ``f`` on the
    flattened ``x``, reshaped to ``x``'s shape.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    point = as_float_array(x, "x").astype(np.float64)
    shape = point.shape

    def flat_f(flat: np.ndarray) -> np.ndarray:
        value = np.asarray(f(flat.reshape(shape)), dtype=np.float64)
        if value.size != 1:
            raise ValueError(f"f must return a scalar, got shape {value.shape}")
        return value.reshape(1)

    return numerical_jacobian(flat_f, point.reshape(-1), eps=eps).reshape(shape)


def max_relative_error(analytic: ArrayLike, numeric: ArrayLike) -> float:
    r"""Largest entrywise relative error, as CS231n's gradient-check notes define it:
    :math:`|g_a - g_n| / \max(|g_a|, |g_n|)`, taken as 0 where both are 0.

    Rule of thumb from those notes: above 1e-2 the gradient is probably wrong; 1e-7 and below is
    a pass for smooth functions in float64. Entries that are both tiny but not zero can give a large
    ratio: look at them before blaming the formula.
    """
    a = as_float_array(analytic, "analytic").astype(np.float64)
    b = as_float_array(numeric, "numeric").astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"analytic and numeric must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.abs(a), np.abs(b))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(scale > 0, np.abs(a - b) / scale, 0.0)
    return float(np.max(ratio))


def gradient_check(
    f: Callable[[np.ndarray], ArrayLike],
    analytic_gradient: ArrayLike,
    x: ArrayLike,
    eps: float | None = None,
) -> float:
    """Maximum relative error (:func:`max_relative_error`) between ``analytic_gradient`` and the
    central-difference gradient of the scalar function ``f`` at ``x``.

    Introduced in chapter 3, where it checks ``dL/dz = a - y``.
    """
    return max_relative_error(analytic_gradient, numerical_gradient(f, x, eps=eps))
