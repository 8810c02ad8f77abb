"""Write a translated copy of the book: prose from the catalogues, everything else untouched.

Each markdown cell of a notebook, and each ``.md`` page, is split into messages
(:mod:`editions.segments`) and each message replaced by its translation; a code cell is copied as
it is, except that its figure's caption and alt text (``mystnb`` metadata) are translated too. A
message without a translation stays in English (the tests require every message translated, so a
published edition has none).
"""

from __future__ import annotations

import copy
from typing import Any

from . import segments


def translate_markdown(text: str, translations: dict[str, str]) -> str:
    """``text`` with each translatable unit replaced by its translation (if it has one)."""
    return segments.join(segments.split(text), translations)


def translate_notebook(notebook: dict[str, Any], translations: dict[str, str]) -> dict[str, Any]:
    """A copy of ``notebook`` (nbformat JSON or NotebookNode) with its prose translated.

    Code cells keep their source, outputs, ids and all metadata except the figure's caption and
    alt text, so the copy's code is the English notebook's, byte for byte.
    """
    translated = copy.deepcopy(notebook)
    for cell in translated["cells"]:
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            cell["source"] = translate_markdown(source, translations)
            continue
        mystnb = cell.get("metadata", {}).get("mystnb", {})
        for key, field in (("figure", "caption"), ("image", "alt")):
            text = (mystnb.get(key) or {}).get(field)
            if text and translations.get(text):
                mystnb[key][field] = translations[text]
    return translated


def translate_toc(toc: dict[str, Any], translations: dict[str, str]) -> dict[str, Any]:
    """A copy of the parsed ``_toc.yml`` with its part captions translated."""
    translated = copy.deepcopy(toc)
    for part in translated.get("parts", []):
        if part.get("caption") in translations:
            part["caption"] = translations[part["caption"]]
    return translated
