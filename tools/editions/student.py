"""Build the student edition of Softmax Notes: the same website with every solution removed.

The configuration is derived from ``_config.yml`` at build time, so there is no second copy to
keep in step. The derived file (written to ``<output>/_config.yml``) differs from ``_config.yml``
only in:

- ``sphinx.config.hide_solutions: true`` (sphinx-exercise drops every ``{solution}``), and the
  local extension ``_ext/hide_gated_solutions.py``, which also drops gated solutions
  (``{solution-start}`` ... ``{solution-end}``, including their code cells);
- the title, which gets the suffix " (student edition)", and the name of the PDF
  (``softmax-notes-student.pdf``, see ``--pdf``);
- no language switch (``_ext/language_switch.py``): there is no Chinese student edition to link to;
- paths Jupyter Book resolves relative to the configuration file (``sphinx.local_extensions``),
  made absolute, and ``execute.cache``: by default the jupyter cache of the normal site build
  (``_build/.jupyter_cache``), so that notebooks executed for the website are not run again.

Then it runs ``jupyter-book build --all -W -n --keep-going --config <derived>
--path-output <output>`` on the book root (warnings are errors, as for the website). The site
is written to ``<output>/_build/html`` (by default ``_build/student/_build/html``). Finally it
strips the solutions from the page sources the site offers for download (``_sources/``: the
``.ipynb`` and ``.md`` files behind each page's download button), so a downloaded notebook has
the exercises and no solutions (a hidden ``remove-cell`` code cell right after a solution, its
check, goes too).

With ``--pdf`` it builds the student PDF instead, the same way as the book's PDF
(``jupyter-book build --builder pdflatex``) and from the same derived configuration, into
``<output>/_build/latex/softmax-notes-student.pdf`` (by default ``_build/student-pdf/...``: a
Sphinx output folder serves one builder, so the PDF does not share the site's folder).

Usage, from the repository root::

    .venv/bin/python tools/build_edition.py student [--output DIR] [--cache DIR] [--pdf]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from .derived import (
    ENGLISH_CACHE,
    ROOT,
    book_config,
    jupyter_book_executable,
    with_absolute_extensions,
)
from .derived import write_config as write_derived_config

TITLE_SUFFIX = " (student edition)"
DEFAULT_OUTPUT = ROOT / "_build" / "student"
DEFAULT_PDF_OUTPUT = ROOT / "_build" / "student-pdf"
PDF_NAME = "softmax-notes-student"  # the book's own PDF is softmax-notes.pdf (_config.yml)
DEFAULT_CACHE = ENGLISH_CACHE
GATED_EXTENSION = ("hide_gated_solutions", ROOT / "_ext")


def student_config(config: dict[str, Any], cache: Path) -> dict[str, Any]:
    """The student edition's configuration, derived from the book's parsed ``_config.yml``."""
    name, folder = GATED_EXTENSION
    derived = with_absolute_extensions(config, {name: folder})
    derived["title"] = f"{config.get('title', 'Softmax Notes')}{TITLE_SUFFIX}"
    derived["sphinx"].setdefault("config", {})["hide_solutions"] = True
    # The student edition has no Chinese counterpart at zh/: no language switch (a dead link).
    derived["sphinx"]["config"]["language_switch"] = {}
    derived.setdefault("execute", {})["cache"] = str(cache.resolve())
    latex = derived.get("latex") or {}
    derived["latex"] = latex
    latex["latex_documents"] = {**(latex.get("latex_documents") or {}),
                                "targetname": f"{PDF_NAME}.tex"}
    return derived


def write_config(config: dict[str, Any], output: Path) -> Path:
    """Write the derived configuration to ``output/_config.yml`` and return its path."""
    return write_derived_config(config, output, "tools/build_edition.py student")


_OPENING = re.compile(
    r"^\s*(?P<fence>`{3,}|~{3,}|:{3,})\{(?P<name>solution|solution-start|solution-end)\}")


def _closes(line: str, fence: str) -> bool:
    """Whether ``line`` closes a directive opened with ``fence``."""
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


class _SolutionStripper:
    """Removes solutions from a stream of MyST markdown (cell after cell, or one page).

    ``{solution}`` blocks go; so does everything from a ``{solution-start}`` block to the matching
    ``{solution-end}`` block, across cells."""

    def __init__(self) -> None:
        self.gated = False  # between solution-start and solution-end
        self.skip_fence: str | None = None  # fence of the solution directive being skipped
        self.after_gated_end = False  # that directive is a solution-end: leave the gate after it
        self.removed_in_chunk = False  # whether the last chunk lost anything

    def markdown(self, text: str) -> str:
        """The kept part of one markdown chunk."""
        kept: list[str] = []
        self.removed_in_chunk = False
        for line in text.splitlines(keepends=True):
            if self.skip_fence is not None:
                self.removed_in_chunk = True
                if _closes(line, self.skip_fence):
                    self.skip_fence = None
                    if self.after_gated_end:
                        self.gated, self.after_gated_end = False, False
                continue
            opening = _OPENING.match(line)
            if opening and (self.gated or opening["name"] != "solution-end"):
                self.removed_in_chunk = True
                self.skip_fence = opening["fence"]
                if opening["name"] == "solution-start":
                    self.gated = True
                elif opening["name"] == "solution-end":
                    self.after_gated_end = True
                continue
            if self.gated:
                self.removed_in_chunk = True
                continue
            kept.append(line)
        return "".join(kept)


def strip_solutions_from_notebook(notebook: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``notebook`` (nbformat JSON) without solutions: ``{solution}`` blocks, gated
    solutions with their code cells, and a ``remove-cell`` code cell that directly follows a
    removed solution (the hidden check of that solution)."""
    stripper = _SolutionStripper()
    cells: list[dict[str, Any]] = []
    previous_removed = False
    for cell in notebook["cells"]:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if cell["cell_type"] == "markdown":
            kept = stripper.markdown(source)
            previous_removed = stripper.removed_in_chunk
            if kept.strip():
                cells.append({**cell, "source": kept.rstrip("\n")})
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        hidden_check = previous_removed and "remove-cell" in tags
        if not stripper.gated and not hidden_check:
            cells.append(cell)
        previous_removed = previous_removed and (stripper.gated or hidden_check)
    return {**notebook, "cells": cells}


def strip_solutions_from_sources(html: Path) -> list[Path]:
    """Strip the solutions from the page sources in ``html/_sources``; return the changed files."""
    changed: list[Path] = []
    for path in sorted((html / "_sources").rglob("*")):
        if path.suffix == ".ipynb":
            notebook = json.loads(path.read_text(encoding="utf-8"))
            stripped = strip_solutions_from_notebook(notebook)
            if stripped != notebook:
                path.write_text(json.dumps(stripped, indent=1, ensure_ascii=False) + "\n",
                                encoding="utf-8")
                changed.append(path)
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
            stripped_text = _SolutionStripper().markdown(text)
            if stripped_text != text:
                path.write_text(stripped_text, encoding="utf-8")
                changed.append(path)
    return changed


def build_command(config_path: Path, output: Path, pdf: bool = False) -> list[str]:
    """The ``jupyter-book build`` command line for the student edition (its site, or its PDF)."""
    builder = ["--builder", "pdflatex"] if pdf else []
    return [jupyter_book_executable(), "build", "--all", "-W", "-n", "--keep-going", *builder,
            "--config", str(config_path), "--path-output", str(output), str(ROOT)]


def pdf_path(output: Path) -> Path:
    """Where the student PDF built into ``output`` is."""
    return output / "_build" / "latex" / f"{PDF_NAME}.pdf"


def main(argv: list[str] | None = None) -> int:
    """Derive the configuration, build the student edition and return jupyter-book's exit code."""
    parser = argparse.ArgumentParser(prog="build_edition.py student",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=None,
                        help="output folder; the site goes to OUTPUT/_build/html "
                             "(default: _build/student), the PDF to "
                             f"OUTPUT/_build/latex/{PDF_NAME}.pdf (default: _build/student-pdf)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="jupyter cache to read executed notebooks from and add to "
                             "(default: _build/.jupyter_cache, the website build's cache)")
    parser.add_argument("--pdf", action="store_true",
                        help="build the student PDF (jupyter-book's pdflatex builder; needs the "
                             "TeX Live packages named in the README) instead of the site")
    args = parser.parse_args(argv)

    config = book_config()
    output = (args.output or (DEFAULT_PDF_OUTPUT if args.pdf else DEFAULT_OUTPUT)).resolve()
    config_path = write_config(student_config(config, args.cache), output)
    command = build_command(config_path, output, pdf=args.pdf)
    print("+", " ".join(command), flush=True)
    returncode = subprocess.run(command, cwd=ROOT).returncode
    if returncode != 0:
        return returncode
    if args.pdf:
        if not pdf_path(output).exists():  # (a failed LaTeX run already exits non-zero)
            print(f"No PDF was written ({pdf_path(output)}); see the LaTeX log beside it.")
            return 1
        print(f"Student PDF: {pdf_path(output)}")
        return 0
    html = output / "_build" / "html"
    changed = strip_solutions_from_sources(html)
    print(f"Solutions stripped from {len(changed)} downloadable page sources.")
    print(f"Student edition: {html / 'index.html'}")
    return 0
