"""Bad input: every public function raises TypeError or ValueError whose message names the
offending argument -- never an AttributeError (or any other exception) from deep inside numpy,
and never a silent answer."""

from __future__ import annotations

import numpy as np
import pytest

import softmaxnotes
from softmaxnotes import (
    attention,
    attention_vjp,
    blocked_attention,
    gumbel_softmax,
    sparsemax,
    sparsemax_jacobian,
    cross_entropy,
    cross_entropy_grad,
    default_step,
    gradient_check,
    log_softmax,
    logsumexp,
    max_relative_error,
    numerical_gradient,
    numerical_jacobian,
    relative_error_reading,
    softmax,
    softmax_jacobian,
    softmax_vjp,
)

ERRORS = (TypeError, ValueError)


def names(argument: str) -> str:
    """A regex that finds ``argument`` as a whole word in the error message."""
    return rf"\b{argument}\b"


BAD_ARRAYS = {
    "string": "abc",
    "numeric string": "1.0",
    "list of numeric strings": ["1", "2"],
    "bytes": b"12",
    "object array": np.array([1.0, None], dtype=object),
    "object array of numbers": np.array([1.0, 2.0], dtype=object),
    "ragged list": [[1.0, 2.0], [3.0]],
    "None": None,
    "complex scalar": 1j,
    "complex array": np.array([1 + 0j, 2]),
    "complex list": [1.0, 2j],
    "dict": {"a": 1},
    "datetime array": np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]"),
}

# (id, argument name the message must contain, call with the bad value in that argument's place)
ARRAY_ARGUMENTS = [
    ("softmax.z", "z", lambda b: softmax(b)),
    ("softmax.z axis=None", "z", lambda b: softmax(b, axis=None)),
    ("log_softmax.z", "z", lambda b: log_softmax(b)),
    ("log_softmax.z axis=None", "z", lambda b: log_softmax(b, axis=None)),
    ("logsumexp.z", "z", lambda b: logsumexp(b)),
    ("logsumexp.z axis=None", "z", lambda b: logsumexp(b, axis=None, keepdims=True)),
    ("softmax_jacobian.z", "z", lambda b: softmax_jacobian(b)),
    ("softmax_vjp.z", "z", lambda b: softmax_vjp(b, [1.0, 2.0])),
    ("softmax_vjp.v", "v", lambda b: softmax_vjp([1.0, 2.0], b)),
    ("cross_entropy.z", "z", lambda b: cross_entropy(b, 0)),
    ("cross_entropy.target", "target", lambda b: cross_entropy([1.0, 2.0], b)),
    ("cross_entropy_grad.z", "z", lambda b: cross_entropy_grad(b, 0)),
    ("cross_entropy_grad.target", "target", lambda b: cross_entropy_grad([1.0, 2.0], b)),
    ("numerical_jacobian.z", "z", lambda b: numerical_jacobian(np.sin, b)),
    ("numerical_gradient.x", "x", lambda b: numerical_gradient(np.sum, b)),
    ("default_step.x", "x", lambda b: default_step(b)),
    ("max_relative_error.analytic", "analytic", lambda b: max_relative_error(b, [1.0, 2.0])),
    ("max_relative_error.numeric", "numeric", lambda b: max_relative_error([1.0, 2.0], b)),
    ("gradient_check.analytic_gradient", "analytic",
     lambda b: gradient_check(np.sum, b, [1.0, 2.0])),
    ("gradient_check.x", "x", lambda b: gradient_check(np.sum, [1.0, 1.0], b)),
    ("sparsemax.z", "z", lambda b: sparsemax(b)),
    ("sparsemax.z axis=None", "z", lambda b: sparsemax(b, axis=None)),
    ("sparsemax_jacobian.z", "z", lambda b: sparsemax_jacobian(b)),
    ("gumbel_softmax.z", "z", lambda b: gumbel_softmax(b, rng=np.random.default_rng(0))),
    ("attention.q", "q", lambda b: attention(b, np.ones((2, 2)), np.ones((2, 1)))),
    ("attention_vjp.d_out", "d_out",
     lambda b: attention_vjp(np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 1)), b)),
    ("blocked_attention.v", "v", lambda b: blocked_attention(np.ones((1, 2)), np.ones((2, 2)), b)),
    ("relative_error_reading.relative_error", "relative_error", lambda b: relative_error_reading(b)),
]


def test_every_public_function_is_covered():
    covered = {case[0].split(".")[0] for case in ARRAY_ARGUMENTS}
    public = {name for name in softmaxnotes.__all__ if name != "symbolic"}
    assert public <= covered, public - covered


@pytest.mark.parametrize("bad", list(BAD_ARRAYS.values()), ids=list(BAD_ARRAYS))
@pytest.mark.parametrize("argument,call", [case[1:] for case in ARRAY_ARGUMENTS],
                         ids=[case[0] for case in ARRAY_ARGUMENTS])
def test_non_numeric_arrays_rejected(argument, call, bad):
    with pytest.raises(ERRORS, match=names(argument)):
        call(bad)


# --------------------------------------------------------------------------------------------------
# axis
# --------------------------------------------------------------------------------------------------

REDUCERS = [softmax, log_softmax, logsumexp, sparsemax]
BAD_AXES = {"1.0": 1.0, "np.float64(0.0)": np.float64(0.0), "'0'": "0", "'-1'": "-1", "True": True,
            "False": False, "np.True_": np.True_, "(0,)": (0,), "[0]": [0], "1j": 1j,
            "object()": object()}


@pytest.mark.parametrize("f", REDUCERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("axis", list(BAD_AXES.values()), ids=list(BAD_AXES))
def test_non_integer_axis(f, axis):
    with pytest.raises(ERRORS, match=names("axis")):
        f(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("f", REDUCERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape,axis", [((3,), 1), ((3,), -2), ((2, 3), 2), ((2, 3), -3),
                                        ((2, 3), 100), ((0,), 1)])
def test_axis_out_of_range(f, shape, axis):
    with pytest.raises(ValueError, match=names("axis")):
        f(np.ones(shape), axis=axis)


@pytest.mark.parametrize("f", REDUCERS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("axis", [0, -1])
def test_zero_dim_z_with_an_axis(f, axis):
    with pytest.raises(ValueError, match=names("z")):
        f(1.5, axis=axis)


@pytest.mark.parametrize("call", [lambda: softmax_jacobian(2.0), lambda: softmax_vjp(2.0, 1.0),
                                  lambda: softmax_jacobian(np.float32(1))])
def test_zero_dim_z_for_jacobian(call):
    with pytest.raises(ValueError, match=names("z")):
        call()


@pytest.mark.parametrize("v", [1.0, [1.0, 2.0], [[1.0], [2.0]], np.ones((3, 2)), np.ones((4, 3)),
                               np.ones((5, 2, 3))[:, :1][:, :, :2]])
def test_vjp_v_of_wrong_shape(v):
    """z has shape (2, 3): v must end in 3 and broadcast against z ((3,) and (1, 3) would)."""
    with pytest.raises(ValueError, match=names("v")):
        softmax_vjp(np.zeros((2, 3)), v)


# --------------------------------------------------------------------------------------------------
# cross-entropy targets and logits
# --------------------------------------------------------------------------------------------------

LOSSES = [cross_entropy, cross_entropy_grad]
Z1 = np.array([0.5, -1.0, 2.0])
Z2 = np.array([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]])

BAD_TARGETS_1D = {
    "index -1 (no wrap-around)": -1,
    "index -3": -3,
    "index n": 3,
    "index 10": 10,
    "numpy index out of range": np.int64(3),
    "uint index out of range": np.uint8(7),
    "float scalar": 1.0,
    "float integral numpy": np.float64(2.0),
    "bool": True,
    "numpy bool": np.True_,
    "bool array": np.array([True, False, False]),
    "index list of length 1": [0],
    "index array of shape (1,)": np.array([1]),
    "probabilities of wrong shape": np.array([[0.2, 0.3, 0.5]]),
    "probabilities too short": [0.5, 0.5],
    "negative probability": [0.5, 0.6, -0.1],
    "sum below 1": [0.2, 0.2, 0.2],
    "sum above 1": [0.5, 0.5, 0.5],
    "nan probability": [np.nan, 0.5, 0.5],
    "inf probability": [np.inf, 0.0, 0.0],
    "string": "1",
    "list of strings": ["0", "1", "0"],
    "None": None,
    "complex": 1j,
    "object array": np.array([0, 1, 0], dtype=object),
}

BAD_TARGETS_2D = {
    "scalar index for a batch": 0,
    "too few indices": [0],
    "too many indices": [0, 1, 2],
    "index out of range": [0, 3],
    "negative index": [-1, 0],
    "indices as column": [[0], [1]],
    "float indices": [0.0, 1.0],
    "bool indices": np.array([True, False]),
    "one probability row": [0.2, 0.3, 0.5],
    "probability rows not summing to 1": [[0.2, 0.3, 0.5], [0.5, 0.5, 0.5]],
    "negative probability row": [[0.2, 0.3, 0.5], [1.5, -0.5, 0.0]],
    "probabilities transposed": np.full((3, 2), 1 / 3),
}


@pytest.mark.parametrize("f", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("target", list(BAD_TARGETS_1D.values()), ids=list(BAD_TARGETS_1D))
def test_bad_target_1d(f, target):
    with pytest.raises(ERRORS, match=names("target")):
        f(Z1, target)


@pytest.mark.parametrize("f", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("target", list(BAD_TARGETS_2D.values()), ids=list(BAD_TARGETS_2D))
def test_bad_target_batch(f, target):
    with pytest.raises(ERRORS, match=names("target")):
        f(Z2, target)


@pytest.mark.parametrize("f", LOSSES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("z,target", [
    (1.5, 0),  # 0-d
    (np.float32(1.5), 0),
    (np.zeros((2, 2, 3)), np.zeros((2, 2), dtype=int)),  # 3-D
    (np.zeros((1, 1, 1, 3)), 0),
    (np.zeros(0), 0),  # no classes
    (np.zeros((2, 0)), np.zeros(2, dtype=int)),
], ids=["0-d", "0-d float32", "3-D", "4-D", "n=0", "batch with n=0"])
def test_bad_logit_shapes(f, z, target):
    with pytest.raises(ValueError, match=names("z")):
        f(z, target)


# --------------------------------------------------------------------------------------------------
# finite differences
# --------------------------------------------------------------------------------------------------

NOT_CALLABLE = [3, None, "sin", [np.sin], np.array([1.0])]


@pytest.mark.parametrize("f", NOT_CALLABLE, ids=repr)
@pytest.mark.parametrize("call", [
    lambda f: numerical_jacobian(f, [1.0, 2.0]),
    lambda f: numerical_gradient(f, [1.0, 2.0]),
    lambda f: numerical_gradient(f, np.zeros(0)),
    lambda f: gradient_check(f, [1.0, 1.0], [1.0, 2.0]),
], ids=["numerical_jacobian", "numerical_gradient", "numerical_gradient empty x", "gradient_check"])
def test_f_not_callable(call, f):
    with pytest.raises(TypeError, match=names("f")):
        call(f)


@pytest.mark.parametrize(
    "z", [[[1.0, 2.0]], np.zeros((2, 2)), 1.0, np.float64(3.0), [1.0, np.nan], [np.inf, 0.0]],
    ids=["2-D list", "2-D", "0-d", "numpy 0-d", "nan", "inf"],
)
def test_numerical_jacobian_bad_point(z):
    with pytest.raises(ValueError, match=names("z")):
        numerical_jacobian(np.sin, z)


BAD_EPS = [0, 0.0, -1e-6, -1, np.nan, np.inf, -np.inf, "1e-6", True, np.True_, [1e-6], 1j]


@pytest.mark.parametrize("eps", BAD_EPS, ids=repr)
@pytest.mark.parametrize("call", [
    lambda eps: numerical_jacobian(np.sin, [1.0, 2.0], eps=eps),
    lambda eps: numerical_gradient(np.sum, [1.0, 2.0], eps=eps),
    lambda eps: gradient_check(np.sum, [1.0, 1.0], [1.0, 2.0], eps=eps),
], ids=["numerical_jacobian", "numerical_gradient", "gradient_check"])
def test_bad_eps(call, eps):
    with pytest.raises(ERRORS, match=names("eps")):
        call(eps)


BAD_FLOORS = {"negative": -1e-10, "nan": np.nan, "inf": np.inf, "True": True, "np.True_": np.True_,
              "string": "1e-8", "None in a list": [None, 1.0], "complex": 1j,
              "negative entry": [1e-8, -1.0]}


@pytest.mark.parametrize("floor", list(BAD_FLOORS.values()), ids=list(BAD_FLOORS))
@pytest.mark.parametrize("call", [
    lambda floor: max_relative_error([1.0, 2.0], [1.0, 2.0], floor=floor),
    lambda floor: gradient_check(np.sum, [1.0, 1.0], [1.0, 2.0], floor=floor),
], ids=["max_relative_error", "gradient_check"])
def test_bad_floor(call, floor):
    with pytest.raises(ERRORS, match=names("floor")):
        call(floor)


@pytest.mark.parametrize("call", [
    lambda: max_relative_error([1.0, 2.0], [1.0, 2.0], floor=[1e-8, 1e-8, 1e-8]),
    lambda: gradient_check(np.sum, [1.0, 1.0], [1.0, 2.0], floor=np.ones((2, 2))),
], ids=["max_relative_error", "gradient_check"])
def test_floor_that_does_not_broadcast(call):
    with pytest.raises(ValueError, match=names("floor")):
        call()


@pytest.mark.parametrize("value", [np.inf, -np.inf, np.nan])
def test_gradient_check_of_a_function_that_is_not_finite_at_x(value):
    with pytest.raises(ValueError, match=names("f")):
        gradient_check(lambda v: value, [1.0, 1.0], [1.0, 2.0])


@pytest.mark.parametrize("call", [
    lambda: numerical_gradient(np.sin, [1.0, 2.0]),  # f returns a vector
    lambda: numerical_gradient(lambda x: np.zeros(3), np.zeros((2, 2))),
    lambda: gradient_check(np.sin, [1.0, 1.0], [1.0, 2.0]),
], ids=["sin", "constant vector", "gradient_check"])
def test_gradient_of_non_scalar_function(call):
    with pytest.raises(ValueError, match=names("f")):
        call()


@pytest.mark.parametrize("call", [
    lambda: max_relative_error([1.0, 2.0], [1.0, 2.0, 3.0]),
    lambda: max_relative_error(np.zeros((2, 3)), np.zeros((3, 2))),
    lambda: gradient_check(np.sum, [1.0, 1.0, 1.0], [1.0, 2.0]),
])
def test_shape_mismatch(call):
    with pytest.raises(ValueError, match=r"\banalytic\b.*\bnumeric\b"):
        call()
