"""softmaxnotes: the helper package of the book *Softmax Notes*.

Numerically stable softmax, log-softmax and log-sum-exp, the softmax Jacobian and its
vector-Jacobian product, cross-entropy and its gradient, finite-difference checks and the scale
they are read on, attention with masks, its backward pass and its blocked forward pass, sparsemax,
Gumbel-softmax, and SymPy expressions (:mod:`softmaxnotes.symbolic`) for the derivations. Each function's docstring names the
chapter that derives it.
"""

from . import symbolic
from .attention import attention
from .attention_backward import attention_vjp
from .blocked_attention import blocked_attention
from .error_scale import RELATIVE_ERROR_SCALE, relative_error_reading
from .gradcheck import (
    default_step,
    gradient_check,
    max_relative_error,
    numerical_gradient,
    numerical_jacobian,
)
from .gumbel import gumbel_softmax
from .jacobian import softmax_jacobian, softmax_vjp
from .loss import cross_entropy, cross_entropy_grad
from .sparsemax import sparsemax, sparsemax_jacobian
from .stable import log_softmax, logsumexp, softmax

__all__ = [
    "softmax",
    "log_softmax",
    "logsumexp",
    "softmax_jacobian",
    "softmax_vjp",
    "cross_entropy",
    "cross_entropy_grad",
    "numerical_jacobian",
    "numerical_gradient",
    "default_step",
    "max_relative_error",
    "gradient_check",
    "relative_error_reading",
    "attention",
    "attention_vjp",
    "blocked_attention",
    "sparsemax",
    "sparsemax_jacobian",
    "gumbel_softmax",
    "symbolic",
]

__version__ = "0.1.0"
