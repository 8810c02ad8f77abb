"""Finite-difference derivatives and the gradient check.

Introduced in chapter 2, "The Jacobian of softmax"; the choice of step is explained in chapter 6,
"Softmax in floating point"; the absolute floor of the gradient check is the lesson of exercise 3.1
in chapter 3, "Cross-entropy and its gradient".
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array

#: The unit roundoff u of float64, 2**-53 (machine epsilon is 2u).
UNIT_ROUNDOFF = float(np.finfo(np.float64).eps) / 2

#: Default absolute floor of :func:`max_relative_error`: a few times u**(2/3), about 2e-11, the
#: smallest absolute error with which a central difference in float64 can measure a derivative of
#: a function of size about 1 (chapter 6).
RELATIVE_ERROR_FLOOR = 1e-10

#: The relative error below which CS231n's gradient-check notes call a check of a smooth function
#: good (their scale is given in chapter 2); :func:`gradient_check` sizes its floor with it.
GOOD_RELATIVE_ERROR = 1e-7

#: How many times the round-off estimate ``u |f(x)| / h`` :func:`gradient_check` allows for: a
#: function is rarely computed to better than a few ``u |f(x)|``.
ROUNDOFF_MARGIN = 10.0


def default_step(x: np.ndarray) -> np.ndarray:
    r"""Central-difference step :math:`h_j = (2u)^{1/3} \max(1, |x_j|)`, with :math:`u = 2^{-53}`
    the unit roundoff of float64 (so :math:`2u` is machine epsilon).

    Truncation error of a central difference is O(h^2) and round-off error O(u/h); their sum is
    smallest near ``h = (2u)^(1/3)`` (about 6e-6), scaled with the size of ``x_j`` (chapter 6,
    "Softmax in floating point", derives the constants).
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
        The step h. By default :func:`default_step` per coordinate. The points ``z_j + h`` and
        ``z_j - h`` are rounded to floating point, so the code divides the difference of the two
        values of ``f`` by the distance between the two points at which ``f`` was actually
        evaluated, ``(z_j + h) - (z_j - h)`` computed from the rounded points, not by ``2h``: the
        rounding of the points then adds no error to the step. That distance is exact when the two
        points have the same sign and lie within a factor 2 of each other (Sterbenz's lemma; true
        once ``|z_j|`` is a few times ``h``), and otherwise the correctly rounded distance, off by
        at most a relative ``u``. The division itself rounds, like any floating-point operation.

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
    steps = _steps(point, eps)
    columns = []
    for j, h in enumerate(steps):
        forward, backward = point.copy(), point.copy()
        forward[j] += h
        backward[j] -= h
        difference = np.asarray(f(forward), dtype=np.float64) - np.asarray(f(backward), dtype=np.float64)
        columns.append(difference.reshape(-1) / (forward[j] - backward[j]))
    return np.stack(columns, axis=-1) if columns else np.zeros((np.size(f(point)), 0))


def _steps(point: np.ndarray, eps: float | None) -> np.ndarray:
    """The step of each coordinate: :func:`default_step`, or ``eps`` checked and broadcast."""
    if eps is None:
        return default_step(point)
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)):
        raise TypeError(f"eps must be a positive number, got {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be positive and finite, got {eps!r}")
    return np.full(point.shape, float(eps))


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
        return _scalar_value(f, flat.reshape(shape))

    return numerical_jacobian(flat_f, point.reshape(-1), eps=eps).reshape(shape)


def _scalar_value(f: Callable[[np.ndarray], ArrayLike], point: np.ndarray) -> np.ndarray:
    """``f(point)`` as a float64 array of shape (1,); ValueError naming ``f`` if not a scalar."""
    value = np.asarray(f(point), dtype=np.float64)
    if value.size != 1:
        raise ValueError(f"f must return a scalar, got shape {value.shape}")
    return value.reshape(1)


def _check_floor(floor: ArrayLike, shape: tuple[int, ...]) -> np.ndarray:
    """``floor`` as a float64 array broadcast to ``shape``: finite and non-negative."""
    if isinstance(floor, (bool, np.bool_)):
        raise TypeError(f"floor must be a non-negative number or array, got {floor!r}")
    value = as_float_array(floor, "floor").astype(np.float64)
    if not np.all(np.isfinite(value)) or np.any(value < 0):
        raise ValueError(f"floor must be finite and non-negative, got {floor!r}")
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        raise ValueError(
            f"floor of shape {value.shape} does not broadcast to the gradient's shape {shape}"
        ) from None


def max_relative_error(
    analytic: ArrayLike, numeric: ArrayLike, floor: ArrayLike = RELATIVE_ERROR_FLOOR
) -> float:
    r"""Largest entrywise relative error with an absolute floor,

    .. math:: \max_j \frac{|G_j - G^{\mathrm{fd}}_j|}{\max(|G_j|, |G^{\mathrm{fd}}_j|, \varphi_j)} ,

    with ``G = analytic``, ``G_fd = numeric`` and the floor ``phi = floor`` (a number, or an array
    that broadcasts to the gradient's shape).

    Introduced in chapter 2, "The Jacobian of softmax", which gives CS231n's scale for reading the
    result: above 1e-2 probably wrong, 1e-4 to 1e-2 uneasy, 1e-7 to 1e-4 fine only with kinks,
    below 1e-7 good.

    Near zero. An entry larger than the floor is compared purely relatively, as CS231n's notes
    define the relative error (``|G - G_fd| / max(|G|, |G_fd|)``). Where both entries are smaller
    than the floor, the relative error means nothing (two gradients of 1e-17 and 3e-17, both zero
    up to rounding, would differ "by 67%"), and the entry is measured against the floor instead:
    ``|G - G_fd| / floor``. So two gradients that are both zero up to rounding pass, and a gradient
    that is zero against one that is not fails as soon as the nonzero entry exceeds the floor
    (relative error 1). CS231n's assignments use the same device, with ``max(1e-8, |G| + |G_fd|)``.

    The default floor, 1e-10, is a few times ``u**(2/3)`` (about 2e-11, ``u`` the unit roundoff of
    float64), the order of the smallest absolute error with which a float64 central difference can
    measure a derivative of a function of size about 1 (chapter 6, "Softmax in floating point"):
    below it, an entry cannot be told apart from zero by any such check. Choose the floor for the
    scale of your quantities (``floor=0`` gives the pure relative error, with 0 where both entries
    are 0); :func:`gradient_check` chooses it from the function and the step.
    """
    a = as_float_array(analytic, "analytic").astype(np.float64)
    b = as_float_array(numeric, "numeric").astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(f"analytic and numeric must have the same shape, got {a.shape} and {b.shape}")
    phi = _check_floor(floor, a.shape)
    if a.size == 0:
        return 0.0
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), phi)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(scale > 0, np.abs(a - b) / scale, 0.0)
    return float(np.max(ratio))


def gradient_check(
    f: Callable[[np.ndarray], ArrayLike],
    analytic_gradient: ArrayLike,
    x: ArrayLike,
    eps: float | None = None,
    floor: ArrayLike | None = None,
) -> float:
    r"""Maximum relative error (:func:`max_relative_error`) between ``analytic_gradient`` and the
    central-difference gradient of the scalar function ``f`` at ``x``, with a floor sized by the
    finite difference's own round-off.

    Introduced in chapter 3, "Cross-entropy and its gradient", where it checks ``dL/dz = a - y``;
    its exercise 3.1 is the reason for the floor.

    The values ``f(x +- h e_j)`` are rounded, so the central difference in entry j carries an
    absolute error of about ``u |f(x)| / h_j`` (``u`` the unit roundoff of float64, ``h_j`` the
    step of that entry; chapter 3 derives this estimate, as chapter 2 does for the Jacobian),
    however small the entry itself is. At a
    minimum of ``f`` every entry of the gradient is zero and the finite difference returns that
    round-off alone: the pure relative error then compares rounding noise with rounding noise and
    reads about 1 for a correct gradient. By default (``floor=None``) the floor of entry j is

    .. math:: \varphi_j = \max\Big(\frac{10\, u\, |f(x)|}{10^{-7}\, h_j},\ 10^{-10}\Big):

    ten times the round-off estimate (:data:`ROUNDOFF_MARGIN`; ``f`` itself is rarely computed to
    better than a few ``u |f(x)|``), divided by 1e-7, the top of the good band of CS231n's scale.
    The second term (:data:`RELATIVE_ERROR_FLOOR`) serves a function whose value at ``x`` is 0.
    An entry above its floor is compared purely relatively. A smaller one cannot be verified to a
    relative 1e-7 by a central difference with this step, and is measured against the floor: an
    entry whose error is at most ten times the round-off estimate reads at most 1e-7, however small
    the entry, while an entry whose error is far larger than the finite difference's own still
    reads large (a zero numerical gradient against an analytic gradient of order ``|f(x)|`` reads
    1). With the default step the floor is about ``1.8e-3 |f(x)| / max(1, |x_j|)``.

    The estimate assumes that ``f`` is evaluated in float64 with a relative error of a few ``u``,
    and that the truncation error of the step is no larger than its round-off (as the default step
    intends). A function computed from terms much larger than its value (it cancels) has a larger
    round-off: pass a floor of your own (``floor=0`` gives the pure relative error).
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    point = as_float_array(x, "x").astype(np.float64)
    if floor is None:
        value = float(_scalar_value(f, point)[0])
        if not np.isfinite(value):
            raise ValueError(f"f must be finite at x to check its gradient, got f(x) = {value!r}")
        steps = _steps(point.reshape(-1), eps).reshape(point.shape)
        roundoff = UNIT_ROUNDOFF * abs(value) / steps
        floor = np.maximum(ROUNDOFF_MARGIN * roundoff / GOOD_RELATIVE_ERROR, RELATIVE_ERROR_FLOOR)
    numeric = numerical_gradient(f, point, eps=eps)
    return max_relative_error(analytic_gradient, numeric, floor=floor)
