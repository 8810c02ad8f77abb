"""Input checking for the attention functions of chapter 9, "Softmax in attention".

One job: turn ``q``, ``k``, ``v``, ``mask``, ``scale`` (and ``d_out``, ``block``) into arrays of one
working dtype with checked shapes, or raise a ``TypeError``/``ValueError`` whose message names the
argument. The shapes are q (..., n_q, d), k (..., n, d), v (..., n, d_v); the leading axes of q, k,
v and the mask broadcast against each other.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ._validation import as_float_array, working_dtype


class AttentionInputs(NamedTuple):
    """Checked inputs. ``q``, ``k``, ``v`` are in the working dtype, with their own shapes (the
    batch axes are broadcast by the matrix products); ``mask`` is ``None`` or a read-only boolean
    view of shape ``batch + (n_q, n)``; ``scale`` is a scalar of the working dtype."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    mask: np.ndarray | None
    scale: np.generic
    batch: tuple[int, ...]
    out_dtype: np.dtype


def _matrix_stack(value: Any, name: str, axes: str) -> np.ndarray:
    array = as_float_array(value, name)
    if array.ndim < 2:
        raise ValueError(f"{name} must have shape (..., {axes}) with at least 2 dimensions, "
                         f"got shape {array.shape}")
    return array


def check_scale(scale: Any, d: int) -> float:
    """``scale`` as a positive finite float; ``None`` gives ``1/sqrt(d)``."""
    if scale is None:
        if d == 0:
            raise ValueError("the default scale 1/sqrt(d) needs d >= 1, but q and k have d = 0; "
                             "pass scale explicitly")
        return 1.0 / float(np.sqrt(d))
    if isinstance(scale, (bool, np.bool_)) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(f"scale must be a positive finite real number or None, got {scale!r} "
                        f"of type {type(scale).__name__}")
    value = float(scale)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"scale must be positive and finite, got {scale!r}")
    return value


def check_block(block: Any) -> int:
    """``block`` as a positive Python int (not a bool, not a float)."""
    if isinstance(block, (bool, np.bool_)) or not isinstance(block, (int, np.integer)):
        raise TypeError(f"block must be a positive integer, got {block!r} of type {type(block).__name__}")
    if block < 1:
        raise ValueError(f"block must be a positive integer, got {block!r}")
    return int(block)


def check_mask(mask: Any, target: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """``mask`` as a boolean array broadcast to ``target`` = batch + (n_q, n), possibly with more
    leading axes of its own; returns the broadcast view and the new batch shape."""
    if mask is None:
        raise TypeError("mask must be a boolean array, got None")  # callers handle None first
    if isinstance(mask, (str, bytes)):
        raise TypeError(f"mask must be a boolean array (True = may attend), got a string: {mask!r}")
    try:
        array = np.asarray(mask)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"mask must be a rectangular boolean array: {exc}") from None
    if array.dtype.kind != "b":
        raise TypeError(
            f"mask must be boolean (True = may attend), got dtype {array.dtype}: a numeric mask is "
            "ambiguous (added to the scores, or multiplied with the probabilities?); "
            "pass e.g. mask=(m != 0)")
    try:
        shape = np.broadcast_shapes(array.shape, target)
    except ValueError:
        raise ValueError(f"mask of shape {array.shape} does not broadcast against the scores' shape "
                         f"{target} (batch..., n_q, n)") from None
    if shape[-2:] != target[-2:]:
        raise ValueError(f"mask of shape {array.shape} does not broadcast against the scores' shape "
                         f"{target}: its last two axes must broadcast to (n_q, n) = {target[-2:]}")
    return np.broadcast_to(array, shape), shape[:-2]


def check_inputs(q: Any, k: Any, v: Any, mask: Any, scale: Any, *extra: np.dtype) -> AttentionInputs:
    """Validate the common arguments of ``attention``, ``attention_vjp`` and ``blocked_attention``.

    ``extra`` are dtypes of further arrays (``d_out``) that take part in the dtype promotion.
    """
    q_arr = _matrix_stack(q, "q", "n_q, d")
    k_arr = _matrix_stack(k, "k", "n, d")
    v_arr = _matrix_stack(v, "v", "n, d_v")
    if q_arr.shape[-1] != k_arr.shape[-1]:
        raise ValueError(f"q and k must have the same number of features d (last axis): q has shape "
                         f"{q_arr.shape}, k has shape {k_arr.shape}")
    if k_arr.shape[-2] != v_arr.shape[-2]:
        raise ValueError(f"k and v must have the same number of keys n (second-to-last axis): k has "
                         f"shape {k_arr.shape}, v has shape {v_arr.shape}")
    try:
        batch = np.broadcast_shapes(q_arr.shape[:-2], k_arr.shape[:-2], v_arr.shape[:-2])
    except ValueError:
        raise ValueError(f"the leading (batch) axes of q {q_arr.shape}, k {k_arr.shape} and v "
                         f"{v_arr.shape} do not broadcast") from None
    out_dtype = np.result_type(q_arr.dtype, k_arr.dtype, v_arr.dtype, *extra)
    work = working_dtype(np.empty(0, out_dtype))
    s = check_scale(scale, q_arr.shape[-1])
    n_q, n = q_arr.shape[-2], k_arr.shape[-2]
    mask_arr = None
    if mask is not None:
        mask_arr, batch = check_mask(mask, batch + (n_q, n))
    return AttentionInputs(
        q_arr.astype(work, copy=False), k_arr.astype(work, copy=False),
        v_arr.astype(work, copy=False), mask_arr, work.type(s), batch, out_dtype)


def check_upstream(d_out: Any, out_shape: tuple[int, ...]) -> np.ndarray:
    """``d_out`` (= dL/dO) as a float array that broadcasts to the output's shape."""
    array = as_float_array(d_out, "d_out")
    try:
        shape = np.broadcast_shapes(array.shape, out_shape)
    except ValueError:
        shape = None
    if shape != out_shape:
        raise ValueError(f"d_out must have the shape of the output, {out_shape} (batch..., n_q, d_v), "
                         f"or broadcast to it; got shape {array.shape}")
    return array


def sum_to_shape(gradient: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a gradient over the axes along which its input was broadcast, giving ``shape``.

    A broadcast in the forward pass is a sum in the backward pass: an input used by several batch
    entries collects the gradient from each of them.
    """
    extra = gradient.ndim - len(shape)
    if extra:
        gradient = gradient.sum(axis=tuple(range(extra)))
    ones = tuple(i for i, (g, s) in enumerate(zip(gradient.shape, shape)) if s == 1 and g != 1)
    if ones:
        gradient = gradient.sum(axis=ones, keepdims=True)
    return gradient
