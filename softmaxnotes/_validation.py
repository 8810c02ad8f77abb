"""Input checking shared by every public function of :mod:`softmaxnotes`.

Bad input gets a ``TypeError`` or ``ValueError`` whose message names the argument, never a silent
wrong answer and never an ``AttributeError`` from deep inside numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def as_float_array(value: Any, name: str) -> np.ndarray:
    """Return ``value`` as a real floating-point array, following ``scipy.special``'s dtype rules.

    float16/float32/float64/longdouble arrays keep their dtype; bools, integers and Python lists of
    numbers become float64. Strings (numeric strings too), ``None``, object arrays, ragged lists and
    complex numbers are rejected with an error that names ``name``.
    """
    if value is None:
        raise TypeError(f"{name} must be an array of real numbers, got None")
    if isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got a string: {value!r}")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as exc:  # ragged nested lists, unconvertible objects
        raise ValueError(f"{name} must be a rectangular array of real numbers: {exc}") from None
    kind = array.dtype.kind
    if kind == "f":
        return array
    if kind in "biu":
        return array.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{name} must be real; complex input (dtype {array.dtype}) is not supported")
    if kind in "US":
        raise TypeError(f"{name} must be an array of real numbers, got strings (dtype {array.dtype})")
    raise TypeError(f"{name} must be an array of real numbers, got dtype {array.dtype}")


def normalize_axis(axis: Any, ndim: int, name: str = "axis") -> int:
    """Return ``axis`` as a non-negative index into an array of ``ndim`` dimensions.

    Accepts Python and numpy integers (not bools), negative values counting from the end.
    """
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name} must be an integer or None, got {axis!r} of type {type(axis).__name__}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}={axis} is out of range for an array with {ndim} dimension(s)")
    return int(axis) % ndim


def working_dtype(array: np.ndarray) -> np.dtype:
    """The dtype to compute in: float16 is computed in float32 and rounded once at the end, and a
    byte-swapped float array (from a file of the other endianness) is computed in native order."""
    dtype = array.dtype.newbyteorder("=")
    return np.dtype(np.float32) if dtype == np.float16 else dtype
