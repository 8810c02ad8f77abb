"""Sphinx extension: accessibility fixes for the book's HTML, found by axe-core.

tests/test_book_build.py runs axe-core on every page of the built site, in the theme's light and
dark modes, and fails on any serious or critical violation. This extension fixes the ones that come
from the HTML that Sphinx, myst-nb and the theme write (colours are fixed in
``_static/accessibility.css``, keyboard access to scrollable outputs in ``_static/accessibility.js``):

- **Bibliography list markup** (axe ``aria-required-children``). docutils writes a bibliography as
  ``<div role="list">`` whose entries carry ``role="doc-biblioentry"``, a role that DPUB-ARIA 1.1
  deprecates (in favour of ``listitem``) and that axe does not accept as a child of a list. The
  entries here get ``role="listitem"``; the rest of docutils' markup is unchanged.
- **Search and colour-mode buttons** (axe ``label-content-name-mismatch``, WCAG 2.5.3 "label in
  name"): the theme labels them "Search" and "Color mode" while they show "Search Ctrl+K" and the
  icon of the current mode. ``accessibility_templates/`` overrides the two theme components so that
  the accessible name is the visible text (see the comment at the top of each template). The folder
  goes first in ``templates_path``, before the theme's components.
- **"Show code cell source" toggles** (axe ``label-content-name-mismatch``): myst-nb writes
  ``<summary aria-label="Toggle hidden content">`` around the visible "Show code cell source" /
  "Hide code cell source". The aria-label is dropped, so the summary is named by the text it shows.

Only the HTML builders are affected; LaTeX output is unchanged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput
from sphinx.application import Sphinx
from sphinx.config import Config

TEMPLATES = Path(__file__).resolve().with_name("accessibility_templates")


def _prepend_templates(app: Sphinx, config: Config) -> None:
    path = str(TEMPLATES)
    if path not in config.templates_path:
        config.templates_path.insert(0, path)


def visit_citation(self: Any, node: nodes.citation) -> None:
    """The translator's own ``visit_citation``, with ``role="listitem"`` on the entry."""
    type(self).visit_citation(self, node)
    self.body[-1] = self.body[-1].replace('role="doc-biblioentry"', 'role="listitem"')


def depart_citation(self: Any, node: nodes.citation) -> None:
    type(self).depart_citation(self, node)


def visit_hide_cell(self: Any, node: HideCodeCellNode) -> None:
    """myst-nb's ``visit_HideCellInput``, without the summary's aria-label."""
    start = len(self.body)
    visit_HideCellInput(self, node)
    self.body[start:] = [part.replace(' aria-label="Toggle hidden content"', "")
                         for part in self.body[start:]]


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("myst_nb")  # registered first, so that the override below wins
    app.connect("config-inited", _prepend_templates)
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    app.add_node(HideCodeCellNode, override=True, html=(visit_hide_cell, depart_HideCellInput))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
