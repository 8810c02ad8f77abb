r"""Gumbel-softmax: a differentiable relaxation of sampling a class from softmax.

Derived in chapter 10, "Relatives of softmax" (Jang, Gu & Poole, ICLR 2017; Maddison, Mnih & Teh,
ICLR 2017). With :math:`g_k \sim \text{Gumbel}(0, 1)` independent, the Gumbel-max trick says that
:math:`\arg\max_k (z_k + g_k)` is a sample from :math:`\operatorname{softmax}(z)`; Gumbel-softmax
replaces the argmax by a softmax at temperature :math:`\tau`,
:math:`\operatorname{softmax}((z + g) / \tau)`.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import as_float_array, working_dtype
from .stable import softmax

__all__ = ["gumbel_softmax"]


def _check_tau(tau: Any) -> float:
    """``tau`` as a Python float; a positive, finite real number or a ValueError/TypeError."""
    if isinstance(tau, (bool, np.bool_)) or not isinstance(tau, (numbers.Real, np.ndarray)):
        raise TypeError(f"tau must be a positive finite real number, got {tau!r} of type "
                        f"{type(tau).__name__}")
    if isinstance(tau, np.ndarray):
        if tau.ndim != 0 or tau.dtype.kind not in "fiu":
            raise TypeError(f"tau must be a positive finite real number (a scalar), got an array "
                            f"of shape {tau.shape} and dtype {tau.dtype}")
    try:
        value = float(tau)
    except OverflowError:  # a Python int beyond the float range
        value = np.inf
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"tau must be positive and finite, got {tau!r}")
    return value


def gumbel_softmax(z: ArrayLike, tau: float = 1.0, *, rng: np.random.Generator,
                   hard: bool = False) -> np.ndarray:
    r"""One Gumbel-softmax sample :math:`\operatorname{softmax}((z + g) / \tau)` along the last axis.

    Derived in chapter 10, "Relatives of softmax". The noise is :math:`g_k \sim \text{Gumbel}(0,
    1)` independent, drawn as ``g = rng.gumbel(size=np.shape(z))`` (float64, then rounded to the
    dtype of the computation), so a generator in the same state gives the same ``g`` and the same
    sample. As :math:`\tau \to 0^+` the sample tends to the one-hot vector of
    :math:`\arg\max_k (z_k + g_k)`, which is distributed as :math:`\operatorname{softmax}(z)` (the
    Gumbel-max trick); as :math:`\tau \to \infty` it tends to the uniform vector
    :math:`\mathbf{1}/n`. Its Jacobian with respect to ``z`` is
    :math:`J((z + g)/\tau)/\tau`, with ``J`` the softmax Jacobian of chapter 2.

    The softmax is taken of :math:`(z + g - \max_k (z_k + g_k)) / \tau`, equal in exact
    arithmetic: a tiny ``tau`` sends the other entries to ``-inf`` (probability 0) instead of
    overflowing.

    Parameters
    ----------
    z : array_like of real numbers, shape (..., n)
        Logits; leading axes are a batch, each slice gets its own noise. A ``-inf`` logit gets
        probability exactly 0 (and is never the argmax).
    tau : positive finite float
        The temperature :math:`\tau`.
    rng : numpy.random.Generator
        The source of the Gumbel noise (keyword only, required: seed it for reproducible results).
    hard : bool
        If true, return the one-hot vector of the Gumbel-max class :math:`\arg\max_k (z_k + g_k)`
        (same shape and dtype): the forward value of the straight-through estimator. The argmax
        is taken of ``z + g`` in the working precision (float32 for float16 input), which is the
        argmax of the soft sample in exact arithmetic for every ``tau``; it does not depend on
        ``tau``. (The argmax of the *rounded* soft sample would not do: at a large ``tau`` every
        probability rounds to ``1/n``, and in float16 rounding makes close probabilities equal,
        and such ties would go to the first class.)

    Returns
    -------
    ndarray of z's shape; dtype rules as :func:`softmaxnotes.softmax`. Each slice sums to 1 (up
    to rounding); with ``hard=True`` it has one entry 1 and the others 0.

    Raises
    ------
    TypeError
        if ``rng`` is not a ``numpy.random.Generator`` (the legacy ``RandomState`` included),
        ``hard`` is not a bool, ``tau`` is not a real number, or ``z`` is not real.
    ValueError
        if ``tau`` is not positive and finite, ``z`` is 0-d, contains nan or ``+inf``, or has a
        slice whose logits are all ``-inf``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), "
                        f"got {type(rng).__name__}")
    if not isinstance(hard, (bool, np.bool_)):
        raise TypeError(f"hard must be True or False, got {hard!r}")
    temperature = _check_tau(tau)
    array = as_float_array(z, "z")
    if array.ndim == 0:
        raise ValueError("z must have at least one dimension, shape (..., n)")
    if array.size == 0:
        return np.array(array, copy=True)
    if np.isnan(array).any():
        raise ValueError("z contains nan")
    if np.isposinf(array).any():
        raise ValueError("z contains +inf: the sample would be nan")
    if not np.isfinite(array).any(axis=-1).all():
        raise ValueError("z has a slice whose logits are all -inf: there is no class to sample")
    work_dtype = working_dtype(array)
    noise = rng.gumbel(size=array.shape).astype(work_dtype, copy=False)
    with np.errstate(over="ignore", invalid="ignore"):
        perturbed = array.astype(work_dtype, copy=False) + noise
        gaps = perturbed - perturbed.max(axis=-1, keepdims=True)  # <= 0, the argmax exactly 0
        # divide in at least float64: a tau that is 0 or inf in float32 is neither in float64
        wide = np.promote_types(work_dtype, np.float64)
        scaled = (gaps.astype(wide, copy=False) / wide.type(temperature)).astype(work_dtype)
    soft = softmax(scaled, axis=-1).astype(array.dtype, copy=False)
    if not hard:
        return soft
    # the Gumbel-max class, argmax of z + g: the argmax of the exact soft sample at every tau.
    # Not the argmax of `soft`, whose rounding can tie the largest probabilities (every entry
    # is 1/n once tau is huge; close entries tie in float16), ties that argmax gives to the
    # first class.
    one_hot = np.zeros(array.shape, dtype=array.dtype)
    np.put_along_axis(one_hot, np.argmax(perturbed, axis=-1)[..., np.newaxis], 1, axis=-1)
    return one_hot
