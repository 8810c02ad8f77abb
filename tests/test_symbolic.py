"""softmaxnotes.symbolic: the SymPy derivations agree with the hand formulas and with the
numerical package."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from softmaxnotes import cross_entropy_grad, softmax, softmax_jacobian
from softmaxnotes import symbolic as S


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_softmax_expr_sums_to_one(n):
    z = S.logit_symbols(n)
    a = S.softmax_expr(z)
    assert a.shape == (n, 1)
    assert sp.simplify(sum(a) - 1) == 0
    assert S.is_zero(sum(a) - 1)


def test_logit_symbols_are_real_and_one_based():
    z = S.logit_symbols(3)
    assert [str(s) for s in z] == ["z_1", "z_2", "z_3"]
    assert all(s.is_real for s in z)
    assert [str(s) for s in S.logit_symbols(2, "y")] == ["y_1", "y_2"]
    assert len(S.logit_symbols(1)) == 1


@pytest.mark.parametrize("n", [0, -1, -5])
def test_logit_symbols_rejects_n_below_one(n):
    with pytest.raises(ValueError, match=r"\bn\b"):
        S.logit_symbols(n)


@pytest.mark.parametrize("n", [2.0, True, "3", None, 2.5])
def test_logit_symbols_rejects_non_integer_n(n):
    with pytest.raises((TypeError, ValueError), match=r"\bn\b"):
        S.logit_symbols(n)


@pytest.mark.parametrize("n", [2, 3])
def test_jacobian_expr_equals_formula(n):
    z = S.logit_symbols(n)
    jac, formula = S.jacobian_expr(z), S.jacobian_formula(z)
    assert jac.shape == formula.shape == (n, n)
    assert S.is_zero(jac - formula)


def test_jacobian_formula_matches_numerics():
    z = S.logit_symbols(3)
    f = sp.lambdify(z, S.jacobian_formula(z), "numpy")
    point = np.array([0.4, -1.0, 2.5])
    np.testing.assert_allclose(np.array(f(*point), dtype=float), softmax_jacobian(point),
                               rtol=1e-14, atol=1e-16)
    g = sp.lambdify(z, S.softmax_expr(z), "numpy")
    np.testing.assert_allclose(np.array(g(*point), dtype=float).ravel(), softmax(point), rtol=1e-15)


def test_general_jacobian_entry_equals_formula():
    g = S.general_softmax()
    entry = S.general_jacobian_entry(g)
    assert not entry.has(sp.Piecewise)
    assert S.is_zero(entry - S.general_jacobian_formula(g))
    assert not S.is_zero(entry - g.a(g.i) * sp.KroneckerDelta(g.i, g.j))  # is_zero is not vacuous


@pytest.mark.parametrize("i,j", [(1, 1), (1, 2), (3, 2), (2, 2)])
def test_general_formula_at_n_3_matches_concrete_jacobian(i, j):
    g = S.general_softmax()
    z3 = S.logit_symbols(3)
    concrete = S.jacobian_formula(z3)[i - 1, j - 1]
    general = S.general_jacobian_formula(g).subs({g.n: 3, g.i: i, g.j: j}).doit()
    general = general.subs({g.z[k]: z3[k - 1] for k in (1, 2, 3)})
    assert S.is_zero(general - concrete)


@pytest.mark.parametrize("n", [2, 3])
def test_cross_entropy_gradient_is_a_minus_y_when_y_sums_to_one(n):
    z = S.logit_symbols(n)
    y = S.logit_symbols(n, "y")
    grad = S.gradient_expr(S.cross_entropy_expr(z, y), z)
    difference = grad - (S.softmax_expr(z) - sp.Matrix(y))
    assert S.is_zero(difference.subs({y[-1]: 1 - sum(y[:-1])}))
    assert not S.is_zero(difference)  # without sum y = 1 it is (sum y) a - y


def test_cross_entropy_gradient_matches_numerics():
    z = S.logit_symbols(3)
    y = (sp.Rational(1, 5), sp.Rational(0), sp.Rational(4, 5))
    grad = S.gradient_expr(S.cross_entropy_expr(z, y), z)
    f = sp.lambdify(z, grad, "numpy")
    point = np.array([1.0, -0.5, 0.25])
    expected = cross_entropy_grad(point, np.array([0.2, 0.0, 0.8]))
    ours = np.array(f(*point), dtype=float).ravel()
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-16)


def test_cross_entropy_expr_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"\by\b"):
        S.cross_entropy_expr(S.logit_symbols(3), S.logit_symbols(2, "y"))


def test_collapse_kronecker_sums_collapses():
    g = S.general_softmax()
    pick_j = sp.Sum(sp.KroneckerDelta(g.j, g.k) * g.z[g.k], (g.k, 1, g.n))
    assert S.collapse_kronecker_sums(pick_j, g) == g.z[g.j]
    pick_i = sp.Sum(sp.KroneckerDelta(g.i, g.k) * sp.exp(g.z[g.k]), (g.k, 1, g.n))
    assert S.collapse_kronecker_sums(pick_i, g) == sp.exp(g.z[g.i])


def test_collapse_kronecker_sums_refuses_unexpected_piecewise():
    g = S.general_softmax()
    x = sp.Symbol("x")
    with pytest.raises(ValueError, match="Piecewise"):
        S.collapse_kronecker_sums(sp.Piecewise((x, x > 0), (0, True)), g)
    # a sum starting at 2 gives a Piecewise whose condition is not j <= n
    shifted = sp.Sum(sp.KroneckerDelta(g.j, g.k) * g.z[g.k], (g.k, 2, g.n))
    with pytest.raises(ValueError, match="Piecewise"):
        S.collapse_kronecker_sums(shifted, g)
    # a fallback other than 0 is refused too
    with pytest.raises(ValueError, match="Piecewise"):
        S.collapse_kronecker_sums(sp.Piecewise((x, sp.Le(g.j, g.n)), (1, True)), g)


def test_is_zero_on_expressions_and_matrices():
    x = sp.Symbol("x", real=True)
    assert S.is_zero(sp.sin(x) ** 2 + sp.cos(x) ** 2 - 1)
    assert not S.is_zero(x)
    assert S.is_zero(sp.zeros(2, 2))
    assert not S.is_zero(sp.Matrix([0, x]))


def test_collapse_kronecker_sums_inside_a_larger_sum_gives_the_cross_entropy_gradient():
    """Differentiating L = -sum_k y_k log a_k directly leaves a Kronecker delta inside a sum over
    k; collapsing it must give a_j * sum_k y_k - y_j (and a_j - y_j once sum_k y_k = 1)."""
    g = S.general_softmax()
    y = sp.IndexedBase("y", real=True)
    loss = -sp.Sum(y[g.k] * sp.log(g.a(g.k)), (g.k, 1, g.n))
    derived = S.collapse_kronecker_sums(sp.diff(loss, g.z[g.j]), g)
    expected = g.a(g.j) * sp.Sum(y[g.k], (g.k, 1, g.n)) - y[g.j]
    assert S.is_zero(sp.expand(derived - expected))
