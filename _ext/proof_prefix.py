"""Sphinx extension: the word that opens a proof, in the edition's language.

sphinx-proof (0.4.0) writes "Proof. " in front of every ``{prf:proof}``'s text, in English
whatever the ``language``: the word is not in its catalogues. With the config value
``proof_prefix`` set (the Chinese edition sets "证明：", ``tools/editions/zh.py``), that opening
word is replaced; unset (the English book), nothing changes.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx

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


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("proof_prefix", "", "env", types=[str])
    app.connect("doctree-read", replace_prefix)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
