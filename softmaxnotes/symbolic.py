"""SymPy expressions for softmax, its Jacobian and the cross-entropy gradient.

Used by every derivation chapter: chapter 1 builds softmax over n symbols, chapter 2 derives the
Jacobian (for concrete n and, with ``IndexedBase``/``Sum``/``KroneckerDelta``, for general n),
chapter 3 the cross-entropy gradient. Indices in the symbols are 1-based, as in the text
(``z_1, ..., z_n``); numpy arrays are 0-based.
"""

from __future__ import annotations

from typing import NamedTuple

import sympy as sp


def logit_symbols(n: int, name: str = "z") -> tuple[sp.Symbol, ...]:
    """Real symbols ``z_1, ..., z_n`` (1-based, as in the text)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    return sp.symbols(f"{name}_1:{n + 1}", real=True)


def softmax_expr(z: tuple[sp.Expr, ...]) -> sp.Matrix:
    r"""Column vector :math:`a_i = e^{z_i} / \sum_{k=1}^n e^{z_k}` (chapter 1, equation eq-softmax)."""
    denominator = sum(sp.exp(zk) for zk in z)
    return sp.Matrix([sp.exp(zi) / denominator for zi in z])


def jacobian_expr(z: tuple[sp.Expr, ...]) -> sp.Matrix:
    r"""SymPy's own Jacobian :math:`\partial a_i / \partial z_j` of :func:`softmax_expr` (chapter 2)."""
    return softmax_expr(z).jacobian(sp.Matrix(z))


def jacobian_formula(z: tuple[sp.Expr, ...]) -> sp.Matrix:
    r"""The hand formula :math:`J = \operatorname{diag}(a) - a a^\top` (chapter 2)."""
    a = softmax_expr(z)
    return sp.diag(*a) - a * a.T


def cross_entropy_expr(z: tuple[sp.Expr, ...], y: tuple[sp.Expr, ...]) -> sp.Expr:
    r"""Cross-entropy :math:`L = -\sum_k y_k \log a_k` (chapter 3)."""
    if len(y) != len(z):
        raise ValueError(f"y must have as many entries as z ({len(z)}), got {len(y)}")
    a = softmax_expr(z)
    return -sum(yk * sp.log(ak) for yk, ak in zip(y, a))


def gradient_expr(expr: sp.Expr, z: tuple[sp.Expr, ...]) -> sp.Matrix:
    r"""Column vector :math:`\partial \mathrm{expr} / \partial z_j`."""
    return sp.Matrix([sp.diff(expr, zj) for zj in z])


def is_zero(expr: sp.Expr | sp.MatrixBase) -> bool:
    """True when ``sympy.simplify`` reduces ``expr`` (or every entry of a matrix) to exactly 0."""
    if isinstance(expr, sp.MatrixBase):
        return all(sp.simplify(entry) == 0 for entry in expr)
    return sp.simplify(expr) == 0


class GeneralSoftmax(NamedTuple):
    """Symbols for softmax over a general number of classes n (chapter 2).

    ``z`` is an ``IndexedBase``; ``i``, ``j``, ``k`` are integer indices in 1..n, ``k`` the summation
    index; ``denominator`` is :math:`\\sum_{k=1}^n e^{z_k}`.
    """

    z: sp.IndexedBase
    n: sp.Symbol
    i: sp.Symbol
    j: sp.Symbol
    k: sp.Symbol
    denominator: sp.Sum

    def a(self, index: sp.Expr) -> sp.Expr:
        r""":math:`a_{index} = e^{z_{index}} / \sum_k e^{z_k}`."""
        return sp.exp(self.z[index]) / self.denominator


def general_softmax() -> GeneralSoftmax:
    """Softmax over ``n`` classes with indexed symbols (chapter 2)."""
    n = sp.Symbol("n", integer=True, positive=True)
    i, j, k = sp.symbols("i j k", integer=True, positive=True)
    z = sp.IndexedBase("z", real=True)
    return GeneralSoftmax(z, n, i, j, k, sp.Sum(sp.exp(z[k]), (k, 1, n)))


def collapse_kronecker_sums(expr: sp.Expr, g: GeneralSoftmax) -> sp.Expr:
    r"""Evaluate :math:`\sum_k \delta_{jk} f(k) = f(j)` for an index ``j`` in 1..n.

    ``Sum(...).doit()`` returns ``Piecewise((f(j), j <= n), (0, True))``, since SymPy cannot know
    that ``j`` is a valid index; this takes the branch whose condition is ``j <= n`` for the free
    indices ``i`` and ``j`` (they are positive integers by construction). The other branch must be
    zero (``0``, or a sum of zeros such as ``Sum(0, (k, 1, n))`` when the Kronecker term sits inside
    a larger sum); any other Piecewise is refused with a ``ValueError``.
    """
    evaluated = expr.doit()

    def in_range_branch(piecewise: sp.Piecewise) -> sp.Expr:
        (value, condition), (fallback, otherwise) = piecewise.args
        valid = {sp.Le(g.j, g.n), sp.Le(g.i, g.n)}
        if condition not in valid or otherwise is not sp.true or sp.simplify(fallback.doit()) != 0:
            raise ValueError(f"unexpected Piecewise, not a Kronecker sum: {piecewise}")
        return value

    return evaluated.replace(lambda e: isinstance(e, sp.Piecewise), in_range_branch)


def general_jacobian_entry(g: GeneralSoftmax | None = None) -> sp.Expr:
    r""":math:`\partial a_i / \partial z_j` for general n, as SymPy differentiates it, with the
    Kronecker sums collapsed (chapter 2)."""
    g = g or general_softmax()
    return collapse_kronecker_sums(sp.diff(g.a(g.i), g.z[g.j]), g)


def general_jacobian_formula(g: GeneralSoftmax | None = None) -> sp.Expr:
    r"""The hand formula :math:`a_i (\delta_{ij} - a_j)` (chapter 2)."""
    g = g or general_softmax()
    return g.a(g.i) * (sp.KroneckerDelta(g.i, g.j) - g.a(g.j))
