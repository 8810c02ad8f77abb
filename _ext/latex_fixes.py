"""Sphinx extension: fixes for the PDF (the LaTeX builder); the HTML pages are not touched.

``jupyter-book build --builder pdflatex .`` typesets the book with XeLaTeX through
sphinx-jupyterbook-latex. Four things the website gets right went wrong in the PDF:

1. **Math written for MathJax.** ``\\mathbf{1}_\\mathcal{S}`` is a subscript ``\\mathcal{S}`` for
   MathJax and for LaTeX's standard math fonts, but the PDF loads ``unicode-math`` (the
   sphinx-jupyterbook-latex preamble does), where ``\\mathcal`` is no longer a one-argument macro:
   TeX stops with "Missing { inserted". Every sub- or superscript that is a one-argument command
   with its argument is braced, ``_\\mathcal{S}`` becoming ``_{\\mathcal{S}}`` (the same formula).
2. **References to an exercise of another chapter** (the teaching guide's ``{numref}`ex-ch1-2```)
   printed "Exercise ??": sphinx-exercise labels an exercise ``exercise:<label>`` in LaTeX and
   rewrites only references from the same chapter to that label. Here the other references are
   rewritten the same way, with the number Sphinx computed.
3. **Exercise numbers.** sphinx-jupyterbook-latex turns the toc's parts into LaTeX parts and sets
   ``numfig_secnum_depth = 2`` (what the LaTeX writer needs to number figures and equations per
   chapter, "Fig. 1.1", as the website does), but Sphinx then also numbered the exercises
   "Exercise 1.7.1" where the website says "Exercise 1.2". Sphinx numbers exercises while it
   reads: the depth is the website's (1) then, and sphinx-jupyterbook-latex's again for writing.
4. **Long tables ran off the page.** A table of more than 30 rows becomes a LaTeX ``longtable``
   with one unbreakable ``l`` column per column (the notation table was 11 cm too wide). Such a
   table gets column widths proportional to the length of its longest cell (capped), which
   Sphinx turns into wrapping columns that share the text width. Shorter tables are left to
   ``tabulary``, which already fits them to the text width.

``tests/test_pdf.py`` builds the PDF and checks it (no "??", no raw TeX, every chapter).
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms.post_transforms import SphinxPostTransform

# ---------------------------------------------------------------- 1. math for unicode-math

# Commands that take one braced argument and may follow ``_`` or ``^`` without braces in MathJax.
ONE_ARGUMENT = frozenset({
    "mathcal", "mathbb", "mathbf", "mathrm", "mathit", "mathsf", "mathtt", "mathfrak", "mathscr",
    "mathbfit", "boldsymbol", "bm", "operatorname", "text", "textrm", "textit", "textbf",
    "hat", "tilde", "bar", "vec", "dot", "ddot", "widehat", "widetilde", "overline",
})
_SCRIPT_COMMAND = re.compile(r"([_^])\s*\\([A-Za-z]+)\s*(?=\{)")


def _group_end(text: str, start: int) -> int:
    """The index just after the brace group that opens at ``text[start] == '{'`` (or -1)."""
    depth = 0
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index + 1
        index += 1
    return -1


def brace_scripts(tex: str) -> str:
    """``tex`` with every ``_\\cmd{...}`` / ``^\\cmd{...}`` (``cmd`` in ONE_ARGUMENT) braced."""
    out: list[str] = []
    position = 0
    for match in _SCRIPT_COMMAND.finditer(tex):
        if match.start() < position or match.group(2) not in ONE_ARGUMENT:
            continue
        if match.start() > 0 and tex[match.start() - 1] == "\\":  # an escaped \_ or \^
            continue
        end = _group_end(tex, match.end())
        if end < 0:
            continue
        out.append(tex[position:match.start()])
        out.append(f"{match.group(1)}{{\\{match.group(2)}{tex[match.end():end]}}}")
        position = end
    out.append(tex[position:])
    return "".join(out)


def fix_math(doctree: nodes.Node) -> None:
    for node in list(doctree.findall(lambda n: isinstance(n, (nodes.math, nodes.math_block)))):
        text = node.astext()
        fixed = brace_scripts(text)
        if fixed != text:
            node.children = []
            node += nodes.Text(fixed)


# ---------------------------------------------------------------- 4. long tables

LONGTABLE_ROWS = 30   # Sphinx's LaTeX writer makes a longtable of a table with more rows
CAP = 60              # characters: a longer cell wraps anyway, it gets no more width
FLOOR = 6


def _display_length(entry: nodes.Node) -> float:
    """Roughly how many characters wide a table cell is when typeset on one line. In a formula,
    a font command (``\\mathbb``, ``\\operatorname``) shows nothing, another command one symbol,
    and braces, ``^``, ``_`` and spaces nothing."""
    length = 0.0
    for text in entry.findall(nodes.Text):
        source = str(text)
        if any(isinstance(parent, nodes.math) for parent in _ancestors(text)):
            source = re.sub(r"\\(?:math[a-z]*|operatorname|text[a-z]*|boldsymbol|left|right)\b", "", source)
            source = re.sub(r"\\[A-Za-z]+", "x", source)
            source = re.sub(r"[{}^_\s]", "", source)
        length += len(source)
    return length


def _ancestors(node: nodes.Node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def fit_long_tables(doctree: nodes.Node) -> None:
    for table in list(doctree.findall(nodes.table)):
        if "colwidths-given" in table["classes"]:
            continue
        groups = [g for g in table.children if isinstance(g, nodes.tgroup)]
        if len(groups) != 1:
            continue
        group = groups[0]
        colspecs = [c for c in group.children if isinstance(c, nodes.colspec)]
        rows = list(group.findall(nodes.row))
        if len(rows) <= LONGTABLE_ROWS and "longtable" not in table["classes"]:
            continue
        widths = [float(FLOOR)] * len(colspecs)
        for row in rows:
            column = 0
            for entry in row.children:
                span = 1 + entry.get("morecols", 0)
                if span == 1 and column < len(widths):
                    widths[column] = max(widths[column], min(CAP, _display_length(entry)))
                column += span
        for colspec, width in zip(colspecs, widths):
            colspec["colwidth"] = max(1, round(width))
        table["classes"].append("colwidths-given")


# ---------------------------------------------------------------- 2. exercise references


class ExerciseReferencesAcrossChapters(SphinxPostTransform):
    """Point references to another chapter's exercise at sphinx-exercise's LaTeX label."""

    default_priority = 25  # after sphinx-exercise's own reference post-transforms (20-22)
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        registry = getattr(self.env, "sphinx_exercise_registry", None)
        if not registry:
            return
        from sphinx_exercise.nodes import (
            exercise_enumerable_node, exercise_latex_number_reference, exercise_node,
        )

        for node in list(self.document.findall(nodes.reference)):
            uri = node.get("refuri", "")
            if not uri.startswith("%") or "#" not in uri:
                continue
            label = uri.split("#", 1)[1]
            target = registry.get(label, {}).get("node")
            if not isinstance(target, (exercise_node, exercise_enumerable_node)):
                continue
            new = exercise_latex_number_reference()
            new.attributes = {**node.attributes, "refid": label}
            new.attributes.pop("refuri", None)
            new += node.children
            node.replace_self(new)


# ---------------------------------------------------------------- wiring


def fix_latex_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex":
        return
    fix_math(doctree)
    fit_long_tables(doctree)


_WRITER_DEPTH = "_latex_fixes_writer_secnum_depth"


def number_exercises_like_the_website(app: Sphinx) -> None:
    """Sphinx numbers exercises (and resolves references to them) with the depth in force when
    the environment is updated; the LaTeX writer needs sphinx-jupyterbook-latex's depth (2, with
    parts) to number figures and equations per chapter. So: the website's depth while reading,
    sphinx-jupyterbook-latex's again before writing."""
    if app.builder.format == "latex":
        setattr(app, _WRITER_DEPTH, app.config["numfig_secnum_depth"])
        app.config["numfig_secnum_depth"] = 1


def restore_writer_depth(app: Sphinx, env: Any) -> list[str]:
    """After the toctree collector numbered the figures and exercises (``env-get-updated``)."""
    if hasattr(app, _WRITER_DEPTH):
        app.config["numfig_secnum_depth"] = getattr(app, _WRITER_DEPTH)
    return []


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", number_exercises_like_the_website, priority=900)
    app.connect("env-get-updated", restore_writer_depth, priority=900)
    app.connect("doctree-resolved", fix_latex_doctree)
    app.add_post_transform(ExerciseReferencesAcrossChapters)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
