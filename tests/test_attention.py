"""attention: the formula, masks, fully masked rows, huge scores, broadcasting, dtypes, accuracy
against an 80-digit reference, and bad input for every argument of the three attention functions
(attention, attention_vjp, blocked_attention).

Accuracy is in units of ``eps * scale_ij`` as defined in test_attention_reference.py; ``units <= 1``
is the assertion.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import softmaxnotes as sn
from softmaxnotes import attention, attention_vjp, blocked_attention, softmax
from test_attention_reference import attention_inputs, broadcast_inputs, error_units

RNG_SEED = 9


def rng():
    return np.random.default_rng(RNG_SEED)


def explicit(q, k, v, mask=None, scale=None):
    """softmax(s Q K^T) V written out with sn.softmax, zero rows where nothing is allowed."""
    q, k, v = (np.asarray(x, dtype=float) for x in (q, k, v))
    s = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = s * (q @ np.swapaxes(k, -1, -2))
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    with np.errstate(invalid="ignore"):
        p = softmax(scores)
    p = np.nan_to_num(p, nan=0.0)
    return p @ v


# --------------------------------------------------------------------------------------------------
# The formula
# --------------------------------------------------------------------------------------------------


def test_one_key_returns_its_value():
    q = rng().normal(size=(3, 4))
    out = attention(q, [[1.0, 2.0, 3.0, 4.0]], [[5.0, -6.0]])
    np.testing.assert_array_equal(out, [[5.0, -6.0]] * 3)


def test_equal_scores_average_the_values():
    k = np.zeros((4, 2))
    v = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(attention(np.ones((2, 2)), k, v), [v.mean(axis=0)] * 2, rtol=1e-15)


def test_hand_example_quarter_three_quarters():
    """Scores (0, log 3) with s = 1: P = (1/4, 3/4)."""
    out = attention([[1.0]], [[0.0], [np.log(3.0)]], [[4.0, 0.0], [0.0, 8.0]], scale=1.0)
    np.testing.assert_allclose(out, [[1.0, 6.0]], rtol=4e-16, atol=4e-16)


def test_matches_the_formula_written_out():
    g = rng()
    q, k, v = g.normal(size=(5, 3)), g.normal(size=(7, 3)), g.normal(size=(7, 2))
    np.testing.assert_allclose(attention(q, k, v), explicit(q, k, v), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(attention(q, k, v, scale=0.7), explicit(q, k, v, scale=0.7),
                               rtol=1e-14, atol=1e-15)


def test_default_scale_is_one_over_sqrt_d():
    g = rng()
    q, k, v = g.normal(size=(3, 16)), g.normal(size=(5, 16)), g.normal(size=(5, 2))
    assert np.array_equal(attention(q, k, v), attention(q, k, v, scale=0.25))
    assert not np.allclose(attention(q, k, v), attention(q, k, v, scale=1.0))


def test_scale_multiplies_the_scores():
    g = rng()
    q, k, v = g.normal(size=(3, 4)), g.normal(size=(6, 4)), g.normal(size=(6, 2))
    np.testing.assert_allclose(attention(q, k, v, scale=3.0), attention(3.0 * q, k, v, scale=1.0),
                               rtol=1e-13, atol=1e-14)


def test_integer_scale_accepted():
    q, k, v = np.eye(2), np.eye(2), np.eye(2)
    assert np.array_equal(attention(q, k, v, scale=2), attention(q, k, v, scale=2.0))


def test_each_output_row_is_a_convex_combination_of_value_rows():
    g = rng()
    q, k, v = g.normal(size=(20, 3)), g.normal(size=(9, 3)), g.normal(size=(9, 4))
    out = attention(q, k, v)
    assert np.all(out <= v.max(axis=0) + 1e-15) and np.all(out >= v.min(axis=0) - 1e-15)


def test_shift_of_a_query_row_along_no_key_changes_nothing():
    """Adding t to every score of a row (here via a bias key dimension) leaves P unchanged."""
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(5, 2)), g.normal(size=(5, 2))
    q_bias = np.hstack([q, np.full((3, 1), 50.0)])
    k_bias = np.hstack([k, np.ones((5, 1))])  # every score of row i gains 50 s
    np.testing.assert_allclose(attention(q_bias, k_bias, v, scale=1.0), attention(q, k, v, scale=1.0),
                               rtol=1e-12, atol=1e-13)


# --------------------------------------------------------------------------------------------------
# Masks
# --------------------------------------------------------------------------------------------------


def test_causal_mask_first_row_sees_only_the_first_key():
    g = rng()
    q, k, v = g.normal(size=(4, 3)), g.normal(size=(4, 3)), g.normal(size=(4, 2))
    causal = np.tril(np.ones((4, 4), bool))
    out = attention(q, k, v, mask=causal)
    np.testing.assert_array_equal(out[0], v[0])
    np.testing.assert_allclose(out, explicit(q, k, v, causal), rtol=1e-14, atol=1e-15)


def test_masked_keys_have_no_influence_at_all():
    g = rng()
    q, k, v = g.normal(size=(3, 3)), g.normal(size=(6, 3)), g.normal(size=(6, 2))
    mask = np.array([True, False, True, True, False, False])
    out = attention(q, k, v, mask=mask)
    k2, v2 = k.copy(), v.copy()
    k2[~mask] = 1e6 * g.normal(size=(3, 3))
    v2[~mask] = 1e300  # (a nan value would still poison the product: 0 * nan = nan)
    assert np.array_equal(attention(q, k2, v2, mask=mask), out)


def test_padding_mask_equals_the_truncated_sequence():
    g = rng()
    q, k, v = g.normal(size=(2, 5, 3)), g.normal(size=(2, 7, 3)), g.normal(size=(2, 7, 4))
    lengths = np.array([7, 4])
    padding = (np.arange(7) < lengths[:, None])[:, None, :]  # (batch, 1, n)
    out = attention(q, k, v, mask=padding)
    for b, length in enumerate(lengths):
        np.testing.assert_allclose(out[b], attention(q[b], k[b, :length], v[b, :length]),
                                   rtol=1e-14, atol=1e-15)


def test_fully_masked_rows_give_zeros_and_others_are_untouched():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 3))
    mask = np.array([[True, True, False, True], [False] * 4, [False, True, False, False]])
    out = attention(q, k, v, mask=mask)
    assert np.array_equal(out[1], np.zeros(3))
    np.testing.assert_array_equal(out[2], v[1])
    np.testing.assert_allclose(out[0], attention(q[:1], k[[0, 1, 3]], v[[0, 1, 3]])[0], rtol=1e-14)
    everything_masked = attention(q, k, v, mask=np.zeros((3, 4), bool))
    assert np.array_equal(everything_masked, np.zeros((3, 3)))
    assert not np.signbit(everything_masked).any()


def test_mask_shapes_that_broadcast():
    g = rng()
    q, k, v = g.normal(size=(2, 3, 4)), g.normal(size=(2, 5, 4)), g.normal(size=(2, 5, 2))
    keys = np.array([True, False, True, True, True])
    full = np.broadcast_to(keys, (2, 3, 5))
    expected = attention(q, k, v, mask=full)
    for mask in (keys, keys[None, :], keys[None, None, :], list(keys)):
        assert np.array_equal(attention(q, k, v, mask=mask), expected)
    assert np.array_equal(attention(q, k, v, mask=True), attention(q, k, v))
    assert np.array_equal(attention(q, k, v, mask=np.ones((3, 5), bool)), attention(q, k, v))


def test_mask_may_add_batch_axes():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 2))
    masks = g.random((5, 3, 4)) < 0.6
    out = attention(q, k, v, mask=masks)
    assert out.shape == (5, 3, 2)
    for b in range(5):
        assert np.array_equal(out[b], attention(q, k, v, mask=masks[b]))


# --------------------------------------------------------------------------------------------------
# Huge scores, non-finite input, empty axes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_do_not_overflow(dtype):
    """Scores of size 1e4: exp(1e4) overflows in every format, the shifted softmax does not."""
    g = rng()
    q = g.normal(size=(4, 8)).astype(dtype)
    k = g.normal(size=(6, 8)).astype(dtype)
    v = g.normal(size=(6, 3)).astype(dtype)
    scale = 1e4
    out = attention(q, k, v, scale=scale)
    assert out.dtype == dtype and np.all(np.isfinite(out))
    # the gaps between scores are about 1e4: P is one-hot, O is the value of the largest score
    winners = np.argmax(q.astype(float) @ k.astype(float).T, axis=1)
    np.testing.assert_array_equal(out, v[winners])
    np.testing.assert_array_equal(blocked_attention(q, k, v, scale=scale, block=2), out)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_scores_close_together(dtype):
    """Scores near 1e4 that differ by O(1): P is not one-hot and must match the shifted formula."""
    g = rng()
    k = g.normal(size=(5, 2))
    k[:, 0] = 1.0
    q = np.array([[1e4, 1.0], [-1e4, 2.0]])  # scores 1e4 + k_1 and -1e4 + 2 k_1
    v = g.normal(size=(5, 2))
    out = attention(q.astype(dtype), k.astype(dtype), v.astype(dtype), scale=1.0)
    # row 0: the scores are 1e4 + k_1, so P = softmax(k_1); row 1: P = softmax(2 k_1)
    ref = np.stack([attention(np.ones((1, 1)), k[:, 1:], v, scale=1.0)[0],
                    attention(np.ones((1, 1)), k[:, 1:], v, scale=2.0)[0]])
    tol = 2e-3 if dtype == np.float32 else 1e-11  # rounding 1e4 + k_1 costs an ulp of 1e4
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)


def test_nan_input_propagates_to_its_row_only():
    q = np.array([[np.nan, 0.0], [1.0, 0.0]])
    out = attention(q, np.eye(2), np.eye(2))
    assert np.all(np.isnan(out[0])) and np.all(np.isfinite(out[1]))
    assert np.all(np.isnan(blocked_attention(q, np.eye(2), np.eye(2))[0]))


def test_allowed_scores_that_overflow_to_minus_inf_are_not_taken_for_a_mask():
    # finite inputs whose allowed scores all overflow to -inf in float32: the reference gives nan
    # (-inf - (-inf)); the blocked pass must not silently return the zeros of a fully masked row
    # (row 1); an allowed score of -inf before a finite one is just a zero term (row 2)
    q = np.array([[1e20, 0.0], [1e20, 0.0], [1.0, 0.0], [1.0, 0.0]], np.float32)
    k = np.array([[-1e20, 0.0], [-1e20, 0.0], [1.0, 1.0]], np.float32)
    v = np.eye(3, dtype=np.float32)
    mask = np.array([[True, True, False], [True, True, True], [True, True, True],
                     [False, False, False]])
    ref = attention(q, k, v, mask=mask)
    assert np.all(np.isnan(ref[0])) and np.array_equal(ref[1], [0, 0, 1])
    assert np.all(np.isfinite(ref[2])) and np.all(ref[3] == 0)
    for block in (1, 2, 3):
        out, lse = blocked_attention(q, k, v, mask=mask, block=block, return_lse=True)
        assert np.all(np.isnan(out[0])), block
        np.testing.assert_allclose(out[1:], ref[1:], rtol=1e-6)
        assert lse[0] == -np.inf and lse[3] == -np.inf   # log of a sum of zeros, and no key


def test_empty_axes():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 5))
    assert attention(q[:0], k, v).shape == (0, 5)
    assert attention(q, k, v[:, :0]).shape == (3, 0)
    for fn in (attention, blocked_attention):  # no keys: every row is fully masked
        assert np.array_equal(fn(q, k[:0], v[:0]), np.zeros((3, 5)))
    assert attention(q, k, v, mask=np.zeros((3, 4), bool)).shape == (3, 5)
    assert attention(np.zeros((3, 0)), np.zeros((4, 0)), v, scale=1.0).shape == (3, 5)


# --------------------------------------------------------------------------------------------------
# Broadcasting and dtypes
# --------------------------------------------------------------------------------------------------


def test_batch_axes_broadcast_like_a_loop():
    g = rng()
    q = g.normal(size=(2, 1, 3, 4))
    k = g.normal(size=(5, 4))            # shared by every batch entry
    v = g.normal(size=(1, 3, 5, 2))
    out = attention(q, k, v)
    assert out.shape == (2, 3, 3, 2)
    for a in range(2):
        for b in range(3):
            assert np.allclose(out[a, b], attention(q[a, 0], k, v[0, b]), rtol=1e-15, atol=0)


FUNCTIONS = {
    "attention": lambda q, k, v, **kw: attention(q, k, v, **kw),
    "blocked_attention": lambda q, k, v, **kw: blocked_attention(q, k, v, block=2, **kw),
    "attention_vjp": lambda q, k, v, **kw: attention_vjp(q, k, v, np.ones((3, 2)), **kw)[0],
}


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype,expected", [
    (np.float16, np.float16), (np.float32, np.float32), (np.float64, np.float64),
    (np.int64, np.float64), (np.int32, np.float64), (np.bool_, np.float64),
])
def test_dtype_preserved(name, dtype, expected):
    g = rng()
    q = (g.normal(size=(3, 4)) * 2).astype(dtype)
    k = (g.normal(size=(5, 4)) * 2).astype(dtype)
    v = (g.normal(size=(5, 2)) * 2).astype(dtype)
    out = FUNCTIONS[name](q, k, v) if name != "attention_vjp" else attention_vjp(
        q, k, v, np.ones((3, 2), dtype))[0]
    assert out.dtype == expected


def test_float32_in_float32_out_and_close_to_float64():
    g = rng()
    q, k, v = (g.normal(size=s) for s in ((6, 8), (9, 8), (9, 3)))
    out32 = attention(q.astype(np.float32), k.astype(np.float32), v.astype(np.float32))
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, attention(q.astype(np.float32).astype(float),
                                                k.astype(np.float32).astype(float),
                                                v.astype(np.float32).astype(float)),
                               rtol=1e-5, atol=1e-6)


def test_mixed_dtypes_promote():
    g = rng()
    q = g.normal(size=(2, 3)).astype(np.float32)
    k, v = g.normal(size=(4, 3)), g.normal(size=(4, 2)).astype(np.float32)
    assert attention(q, k, v).dtype == np.float64
    assert attention(q, k.astype(np.float32), v).dtype == np.float32


def test_lists_accepted():
    assert attention([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [2.0]]).shape == (1, 1)


def test_inputs_are_not_modified():
    g = rng()
    q, k, v = g.normal(size=(3, 2)), g.normal(size=(4, 2)), g.normal(size=(4, 2))
    mask = g.random((3, 4)) < 0.5
    copies = [x.copy() for x in (q, k, v, mask)]
    attention(q, k, v, mask)
    blocked_attention(q, k, v, mask, block=3)
    attention_vjp(q, k, v, np.ones((3, 2)), mask)
    for x, c in zip((q, k, v, mask), copies):
        assert np.array_equal(x, c)


# --------------------------------------------------------------------------------------------------
# Accuracy against the 80-digit reference (hypothesis)
# --------------------------------------------------------------------------------------------------


@given(attention_inputs(np.float64))
def test_float64_within_one_unit_of_the_reference(case):
    q, k, v, mask, scale = case
    out = attention(q, k, v, mask, scale)
    assert out.dtype == np.float64
    assert out.shape == broadcast_inputs(q, k, v, mask)[4] + (q.shape[-2], v.shape[-1])
    assert error_units(out, q, k, v, mask, scale) <= 1


@given(attention_inputs(np.float32, bound=10.0))
def test_float32_within_one_unit_of_the_reference(case):
    q, k, v, mask, scale = case
    out = attention(q, k, v, mask, scale)
    assert out.dtype == np.float32
    assert error_units(out, q, k, v, mask, scale, dtype=np.float32) <= 1


@given(attention_inputs(np.float32, bound=100.0), st.floats(10.0, 1e3))
def test_float32_huge_scores_within_one_unit(case, scale):
    """Scores up to 4 * 100^2 * 1e3 = 4e7: the shifted softmax keeps the error at the scale."""
    q, k, v, mask, _ = case
    out = attention(q, k, v, mask, scale)
    assert np.all(np.isfinite(out))
    assert error_units(out, q, k, v, mask, scale, dtype=np.float32) <= 1


# --------------------------------------------------------------------------------------------------
# Bad input, for every argument of the three functions
# --------------------------------------------------------------------------------------------------

ERRORS = (TypeError, ValueError)
Q, K, V = np.ones((3, 4)), np.ones((5, 4)), np.ones((5, 2))
D_OUT = np.ones((3, 2))

BAD_ARRAYS = {
    "string": "abc",
    "numeric string": "1.0",
    "list of strings": [["1", "2"]],
    "bytes": b"12",
    "object array": np.array([[1.0, None]], dtype=object),
    "ragged list": [[1.0, 2.0], [3.0]],
    "None": None,
    "complex scalar": 1j,
    "complex array": np.ones((3, 4)) * (1 + 1j),
    "dict": {"a": 1},
    "datetime array": np.array([["2020-01-01"]], dtype="datetime64[D]"),
}

CALLS = {
    "attention": lambda q, k, v, **kw: attention(q, k, v, **kw),
    "attention_vjp": lambda q, k, v, **kw: attention_vjp(q, k, v, kw.pop("d_out", D_OUT), **kw),
    "blocked_attention": lambda q, k, v, **kw: blocked_attention(q, k, v, **kw),
}


def names(argument: str) -> str:
    return rf"\b{argument}\b"


@pytest.mark.parametrize("fn", CALLS)
@pytest.mark.parametrize("argument", ["q", "k", "v"])
@pytest.mark.parametrize("bad", list(BAD_ARRAYS.values()), ids=list(BAD_ARRAYS))
def test_non_numeric_arrays_rejected(fn, argument, bad):
    args = {"q": Q, "k": K, "v": V}
    args[argument] = bad
    with pytest.raises(ERRORS, match=names(argument)):
        CALLS[fn](**args)


@pytest.mark.parametrize("bad", list(BAD_ARRAYS.values()), ids=list(BAD_ARRAYS))
def test_non_numeric_d_out_rejected(bad):
    with pytest.raises(ERRORS, match=names("d_out")):
        attention_vjp(Q, K, V, bad)


@pytest.mark.parametrize("fn", CALLS)
@pytest.mark.parametrize("argument,value", [
    ("q", np.ones(4)), ("q", 1.0), ("k", np.ones(4)), ("v", np.ones(5)), ("v", 2.0),
], ids=["q 1-D", "q 0-d", "k 1-D", "v 1-D", "v 0-d"])
def test_arrays_need_two_dimensions(fn, argument, value):
    args = {"q": Q, "k": K, "v": V}
    args[argument] = value
    with pytest.raises(ValueError, match=names(argument)):
        CALLS[fn](**args)


@pytest.mark.parametrize("fn", CALLS)
@pytest.mark.parametrize("args,pattern", [
    ((np.ones((3, 4)), np.ones((5, 3)), V), r"\bq\b.*\bk\b.*\bd\b"),      # d of q and k
    ((Q, np.ones((5, 4)), np.ones((6, 2))), r"\bk\b.*\bv\b.*\bn\b"),     # n of k and v
    ((np.ones((2, 3, 4)), np.ones((3, 5, 4)), V), r"\bq\b.*\bk\b.*\bv\b"),  # batch axes
], ids=["d of q and k", "n of k and v", "batch axes"])
def test_shapes_that_do_not_fit(fn, args, pattern):
    with pytest.raises(ValueError, match=pattern):
        CALLS[fn](*args)


BAD_MASK_TYPES = {
    "float mask": np.ones((3, 5)),
    "float additive mask": np.where(np.ones((3, 5), bool), 0.0, -np.inf),
    "int mask": np.ones((3, 5), int),
    "uint8 mask": np.ones((3, 5), np.uint8),
    "string": "causal",
    "list of strings": [["True"] * 5] * 3,
    "object array": np.ones((3, 5), dtype=object),
    "complex": np.ones((3, 5), complex),
    "float scalar": 1.0,
    "ragged list": [[True, False], [True]],
}


@pytest.mark.parametrize("fn", CALLS)
@pytest.mark.parametrize("mask", list(BAD_MASK_TYPES.values()), ids=list(BAD_MASK_TYPES))
def test_non_boolean_mask_rejected(fn, mask):
    with pytest.raises(ERRORS, match=names("mask")):
        CALLS[fn](Q, K, V, mask=mask)


def test_float_mask_message_explains_the_ambiguity():
    with pytest.raises(TypeError, match="ambiguous"):
        attention(Q, K, V, mask=np.zeros((3, 5)))


@pytest.mark.parametrize("fn", CALLS)
@pytest.mark.parametrize("shape", [(3, 4), (3, 6), (2, 5), (4,), (5, 1), (2, 2, 5)[1:] + (1,),
                                   (3, 5, 1)], ids=str)
def test_mask_that_does_not_broadcast(fn, shape):
    with pytest.raises(ValueError, match=names("mask")):
        CALLS[fn](Q, K, V, mask=np.ones(shape, bool))


def test_mask_batch_axes_that_do_not_broadcast():
    q = np.ones((2, 3, 4))
    with pytest.raises(ValueError, match=names("mask")):
        attention(q, K, V, mask=np.ones((3, 3, 5), bool))


BAD_SCALES = {
    "0": 0, "0.0": 0.0, "-1": -1, "-0.5": -0.5, "nan": np.nan, "inf": np.inf, "-inf": -np.inf,
    "'1.0'": "1.0", "True": True, "np.True_": np.True_, "[1.0]": [1.0], "1j": 1j,
    "array": np.array([0.5]), "object()": object(), "np.float32 nan": np.float32("nan"),
}


@pytest.mark.parametrize("fn", CALLS)
@pytest.mark.parametrize("scale", list(BAD_SCALES.values()), ids=list(BAD_SCALES))
def test_bad_scale(fn, scale):
    with pytest.raises(ERRORS, match=names("scale")):
        CALLS[fn](Q, K, V, scale=scale)


@pytest.mark.parametrize("fn", CALLS)
def test_default_scale_needs_d_at_least_one(fn):
    with pytest.raises(ValueError, match=names("scale")):
        CALLS[fn](np.ones((3, 0)), np.ones((5, 0)), V)


BAD_BLOCKS = {"0": 0, "-1": -1, "1.5": 1.5, "8.0": 8.0, "'8'": "8", "True": True,
              "None": None, "np.float64(4)": np.float64(4), "[4]": [4], "1j": 1j}


@pytest.mark.parametrize("block", list(BAD_BLOCKS.values()), ids=list(BAD_BLOCKS))
def test_bad_block(block):
    with pytest.raises(ERRORS, match=names("block")):
        blocked_attention(Q, K, V, block=block)


def test_numpy_integer_block_accepted():
    assert np.array_equal(blocked_attention(Q, K, V, block=np.int64(2)), blocked_attention(Q, K, V, block=2))


@pytest.mark.parametrize("value", [1, 0, "yes", None])
def test_bad_return_lse(value):
    with pytest.raises(TypeError, match=names("return_lse")):
        blocked_attention(Q, K, V, return_lse=value)


@pytest.mark.parametrize("d_out", [np.ones((3, 3)), np.ones((4, 2)), np.ones((2, 3, 2)), np.ones(3),
                                   np.ones((3, 2, 1))], ids=str)
def test_d_out_of_the_wrong_shape(d_out):
    with pytest.raises(ValueError, match=names("d_out")):
        attention_vjp(Q, K, V, d_out)


def test_every_new_public_function_is_here():
    for name in ("attention", "attention_vjp", "blocked_attention"):
        assert name in sn.__all__ and callable(getattr(sn, name))
        doc = getattr(sn, name).__doc__
        assert 'chapter 9, "Softmax in attention"' in doc, name
