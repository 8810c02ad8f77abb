"""Sphinx extension: fixes for the PDF (the LaTeX builder); the HTML pages are not touched.

``jupyter-book build --builder pdflatex .`` typesets the book with XeLaTeX through
sphinx-jupyterbook-latex. Six things the website gets right went wrong in the PDF:

1. **Math written for MathJax.** ``\\mathbf{1}_\\mathcal{S}`` is a subscript ``\\mathcal{S}`` for
   MathJax and for LaTeX's standard math fonts, but the PDF loads ``unicode-math`` (the
   sphinx-jupyterbook-latex preamble does), where ``\\mathcal`` is no longer a one-argument macro:
   TeX stops with "Missing { inserted". Every sub- or superscript that is a one-argument command
   with its argument is braced, ``_\\mathcal{S}`` becoming ``_{\\mathcal{S}}`` (the same formula).
2. **References to an exercise of another chapter** (the teaching guide's ``{numref}`ex-ch1-2```)
   printed "Exercise ??": sphinx-exercise labels an exercise ``exercise:<label>`` in LaTeX and
   rewrites only references from the same chapter to that label. Here the other references are
   rewritten the same way, with the number Sphinx computed. And the titles of solutions read
   "Solution toExercise 1.1" (the space sat inside the link, where TeX drops it).
3. **Exercise numbers.** sphinx-jupyterbook-latex turns the toc's parts into LaTeX parts and sets
   ``numfig_secnum_depth = 2`` (what the LaTeX writer needs to number figures and equations per
   chapter, "Fig. 1.1", as the website does), but Sphinx then also numbered the exercises
   "Exercise 1.7.1" where the website says "Exercise 1.2". Sphinx numbers exercises while it
   reads: the depth is the website's (1) then, and sphinx-jupyterbook-latex's again for writing.
4. **Long tables ran off the page.** A table of more than 30 rows becomes a LaTeX ``longtable``
   with one unbreakable ``l`` column per column (the notation table was 11 cm too wide). Such a
   table gets column widths proportional to the length of its longest cell (capped), but never
   narrower than its longest word or code word; Sphinx turns them into wrapping columns that
   share the text width. Shorter tables are left to
   ``tabulary``, which already fits them to the text width.
5. **Chinese characters** (the title of a web page chapter 5 cites) were dropped: the PDF's
   fonts (FreeFont) have none. Runs of them are set in ``\\cjkfont`` (WenQuanYi Micro Hei,
   declared in the preamble in ``_config.yml``). The PDF's LaTeX log then has no "Missing
   character", which ``tests/test_pdf.py`` checks.
6. **The bibliography** was a chapter with one sentence, and the works cited followed the last
   chapter under a second "Bibliography" heading (Sphinx gathers every citation at the end of
   a LaTeX document). They are put back in the bibliography chapter.

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
LINE = 95             # characters of body text in a line of the text block, about
MONO = 1.25           # width of a monospaced character, in characters of body text


def _ancestors(node: nodes.Node):
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _cell_widths(entry: nodes.Node) -> tuple[float, float]:
    """How wide a table cell is typeset on one line, and its widest unbreakable piece (a word,
    a literal's word, a formula), in characters of body text. In a formula, a font command
    (``\\mathbb``, ``\\operatorname``) shows nothing, another command one symbol, and braces,
    ``^``, ``_`` and spaces nothing; its letters are italic and its relations spaced."""
    length = widest = 0.0
    for text in entry.findall(nodes.Text):
        source = str(text)
        parents = list(_ancestors(text))
        if any(isinstance(parent, nodes.math) for parent in parents):
            source = re.sub(r"\\(?:math[a-z]*|operatorname|text[a-z]*|boldsymbol|left|right)\b",
                            "", source)
            source = re.sub(r"\\[A-Za-z]+", "x", source)
            width = 1.6 * len(re.sub(r"[{}^_\s]", "", source))
            length, widest = length + width, max(widest, width)
            continue
        scale = MONO if any(isinstance(parent, nodes.literal) for parent in parents) else 1.0
        length += scale * len(source)
        widest = max([widest] + [scale * len(word) for word in source.split()])
    return length, widest


def column_widths(rows: list[nodes.row], columns: int) -> list[int]:
    """Widths (characters of body text, summing to about LINE) for a table's columns: shares in
    proportion to each column's longest cell (at most CAP), but never narrower than its widest
    unbreakable piece (a longer code word would run into the next column)."""
    wanted = [float(FLOOR)] * columns
    least = [float(FLOOR)] * columns
    for row in rows:
        column = 0
        for entry in row.children:
            span = 1 + entry.get("morecols", 0)
            if span == 1 and column < columns:
                length, widest = _cell_widths(entry)
                wanted[column] = max(wanted[column], min(CAP, length))
                least[column] = max(least[column], widest + 2)
            column += span
    widths = [LINE * w / sum(wanted) for w in wanted]
    for _ in range(columns):  # raise the columns below their least width, take it from the rest
        short = [k for k in range(columns) if widths[k] < least[k]]
        if not short:
            break
        for k in short:
            widths[k] = least[k]
        free = [k for k in range(columns) if k not in short]
        spare = LINE - sum(widths[k] for k in short)
        total = sum(wanted[k] for k in free)
        for k in free:
            widths[k] = max(1.0, spare * wanted[k] / total) if total else widths[k]
    return [max(1, round(w)) for w in widths]


def fit_long_tables(doctree: nodes.Node) -> None:
    for table in list(doctree.findall(nodes.table)):
        if "colwidths-given" in table["classes"]:
            continue
        groups = [g for g in table.children if isinstance(g, nodes.tgroup)]
        if len(groups) != 1:
            continue
        colspecs = [c for c in groups[0].children if isinstance(c, nodes.colspec)]
        rows = list(groups[0].findall(nodes.row))
        if len(rows) <= LONGTABLE_ROWS and "longtable" not in table["classes"]:
            continue
        for colspec, width in zip(colspecs, column_widths(rows, len(colspecs))):
            colspec["colwidth"] = width
        table["classes"].append("colwidths-given")


# ---------------------------------------------------------------- 5. Chinese characters

# CJK radicals, symbols and punctuation, ideographs; compatibility ideographs; fullwidth forms
_CJK = re.compile(r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]+")
_VERBATIM = (nodes.literal_block, nodes.literal, nodes.math, nodes.math_block, nodes.raw)


def wrap_cjk(doctree: nodes.Node) -> None:
    """Set runs of Chinese characters in ``\\cjkfont`` (defined in the preamble, _config.yml)."""
    for text in list(doctree.findall(nodes.Text)):
        if not _CJK.search(text) or any(isinstance(p, _VERBATIM) for p in _ancestors(text)):
            continue
        pieces: list[nodes.Node] = []
        position = 0
        for match in _CJK.finditer(text):
            if match.start() > position:
                pieces.append(nodes.Text(text[position:match.start()]))
            run = match.group()
            pieces.append(nodes.raw("", f"\\texorpdfstring{{{{\\cjkfont {run}}}}}{{{run}}}",
                                    format="latex"))
            position = match.end()
        if position < len(text):
            pieces.append(nodes.Text(text[position:]))
        parent = text.parent
        index = parent.index(text)
        parent[index:index + 1] = pieces


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
        # "Solution to Exercise 1.1": sphinx-exercise puts the space inside the link,
        # \hyperref[...]{ Exercise 1.1}, where TeX drops it ("Solution toExercise 1.1").
        for node in list(self.document.findall(exercise_latex_number_reference)):
            first = node.children[0] if node.children else None
            if isinstance(first, nodes.Text) and first[:1].isspace():
                node.replace(first, nodes.Text(first.lstrip()))
                node.parent.insert(node.parent.index(node), nodes.Text(" "))


# ---------------------------------------------------------------- 6. the bibliography in its chapter

_BIB_MARK = "latex_fixes: the bibliography goes here"


class MarkTheBibliography(SphinxPostTransform):
    """Before Sphinx gathers the citations at the end of the book, note where the first one is
    (the ``{bibliography}`` directive of the bibliography page)."""

    default_priority = 740  # sphinx.builders.latex.transforms.BibliographyTransform is 750
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        citation = next(iter(self.document.findall(nodes.citation)), None)
        if citation is not None and citation.parent is not None:
            citation.parent.insert(citation.parent.index(citation), nodes.comment("", _BIB_MARK))


class PutTheBibliographyInItsChapter(SphinxPostTransform):
    """Move the gathered citations back to the mark: otherwise the bibliography chapter holds one
    sentence and the list follows the last chapter as an unnumbered "Bibliography". There it is
    set without a heading of its own (``\\sphinxbibliographyinplace``, in the preamble)."""

    default_priority = 760
    formats = ("latex",)

    def run(self, **kwargs: Any) -> None:
        from sphinx.builders.latex.nodes import thebibliography

        marks = [c for c in self.document.findall(nodes.comment) if c.astext() == _BIB_MARK]
        bibliography = next(iter(self.document.findall(thebibliography)), None)
        if marks and bibliography is not None:
            mark = marks[0]
            bibliography.parent.remove(bibliography)
            mark.replace_self([nodes.raw("", "\\sphinxbibliographyinplace\n", format="latex"),
                               bibliography])
        for mark in [c for c in self.document.findall(nodes.comment) if c.astext() == _BIB_MARK]:
            mark.parent.remove(mark)


# ---------------------------------------------------------------- wiring


def fix_latex_doctree(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    if app.builder.format != "latex":
        return
    fix_math(doctree)
    fit_long_tables(doctree)
    wrap_cjk(doctree)


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
    app.add_post_transform(MarkTheBibliography)
    app.add_post_transform(PutTheBibliographyInItsChapter)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
