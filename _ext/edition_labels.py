"""Sphinx extension: labels that no catalogue translates, given by an edition in another language.

- ``proof_prefix``: sphinx-proof (0.4.0) writes "Proof. " in front of every ``{prf:proof}``'s
  text, in English whatever the ``language``; set, it replaces that opening word.
- ``search_bar_text``: Jupyter Book sets the theme's search box text to an English default
  ("Search this book..."); set, it replaces it.

The Chinese edition sets both (``tools/editions/zh.py``); unset (the English book), nothing changes.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config

ENGLISH = "Proof. "


def replace_prefix(app: Sphinx, doctree: nodes.document) -> None:
    prefix = app.config.proof_prefix
    if not prefix:
        return
    for admonition in doctree.findall(nodes.admonition):
        if "proof" not in admonition["classes"]:
            continue
        for text in admonition.findall(nodes.Text):
            if text.astext().startswith(ENGLISH):
                text.parent.replace(text, nodes.Text(prefix + text.astext()[len(ENGLISH):]))
            break


def replace_search_bar_text(app: Sphinx, config: Config) -> None:
    if config.search_bar_text:
        config.html_theme_options = {**(config.html_theme_options or {}),
                                     "search_bar_text": config.search_bar_text}


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("proof_prefix", "", "env", types=[str])
    app.add_config_value("search_bar_text", "", "html", types=[str])
    app.connect("doctree-read", replace_prefix)
    app.connect("config-inited", replace_search_bar_text, priority=800)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
