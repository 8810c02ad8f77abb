"""The book's prose as gettext catalogues: extract it (``.pot``) and read translations (``.po``).

One catalogue per page (``chapters/01_what_softmax_is.pot``, ``intro.pot``, ...), plus
``_notation_table`` (included by the notation page) and ``book`` (the title and the part captions of
the table of contents). A message is one unit of :mod:`editions.segments` (a heading, a paragraph, a
list, a table, a directive's title), or a figure's caption or alt text from a code cell's ``mystnb``
metadata. Code cells are never in a catalogue: they exist once, in the English source.

The translations live in ``locales/zh_CN/LC_MESSAGES/<page>.po``; ``sphinx-intl update`` merges a
new ``.pot`` into them, marking changed messages fuzzy and dropping removed ones as obsolete.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from . import segments

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "locales"
BOOK_CATALOGUE = "book"  # the title and author (_config.yml) and the part captions (_toc.yml)
EXTRA_PAGES = ["_notation_table.md"]  # pages that are included in others, not listed in the toc


@dataclass(frozen=True)
class Message:
    """One message: its English text and where it comes from (for the translator)."""

    text: str
    location: str
    kind: str = "prose"  # or heading, title, table, caption, alt (segments.kind)


def toc_pages(root: Path = ROOT) -> list[Path]:
    """Every source file of the table of contents, in order (the root page first)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part.get("chapters", [])]
    pages = []
    for name in files:
        for suffix in (".ipynb", ".md"):
            if (root / f"{name}{suffix}").exists():
                pages.append(root / f"{name}{suffix}")
                break
        else:
            raise FileNotFoundError(f"no .ipynb or .md for {name!r} of _toc.yml")
    return pages


def translated_pages(root: Path = ROOT) -> list[Path]:
    """The toc pages and the pages they include: every file the Chinese edition translates."""
    return toc_pages(root) + [root / name for name in EXTRA_PAGES]


def domain(page: Path, root: Path = ROOT) -> str:
    """The catalogue name of a page: its path without suffix, e.g. ``chapters/02_jacobian``."""
    return page.relative_to(root).with_suffix("").as_posix()


def figure_texts(cell: dict) -> list[tuple[str, str]]:
    """(kind, text) of a code cell's figure caption and image alt text (``mystnb`` metadata)."""
    mystnb = cell.get("metadata", {}).get("mystnb", {})
    found = []
    caption = (mystnb.get("figure") or {}).get("caption")
    if caption:
        found.append(("caption", caption))
    alt = (mystnb.get("image") or {}).get("alt")
    if alt:
        found.append(("alt", alt))
    return found


def page_messages(page: Path, root: Path = ROOT) -> list[Message]:
    """The messages of one page, in reading order."""
    relative = page.relative_to(root).as_posix()
    if page.suffix == ".md":
        return [Message(text, relative, kind)
                for text, kind in segments.units(page.read_text(encoding="utf-8"))]
    notebook = json.loads(page.read_text(encoding="utf-8"))
    found = []
    for number, cell in enumerate(notebook["cells"]):
        where = f"{relative}#{cell.get('id', number)}"
        if cell["cell_type"] == "markdown":
            found += [Message(text, where, kind) for text, kind in segments.units("".join(cell["source"]))]
        elif cell["cell_type"] == "code":
            found += [Message(text, f"{where}/{kind}", kind) for kind, text in figure_texts(cell)]
    return found


def book_messages(root: Path = ROOT) -> list[Message]:
    """The book's title and author, and the part captions of its table of contents."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    found = [Message(config["title"], "_config.yml#title"),
             Message(config["author"], "_config.yml#author")]
    found += [Message(part["caption"], "_toc.yml#caption") for part in toc.get("parts", [])
              if part.get("caption")]
    return found


def all_messages(root: Path = ROOT) -> dict[str, list[Message]]:
    """Every catalogue of the book: its name and its messages."""
    catalogues = {domain(page, root): page_messages(page, root) for page in translated_pages(root)}
    catalogues[BOOK_CATALOGUE] = book_messages(root)
    return catalogues


def write_templates(output: Path, root: Path = ROOT) -> list[Path]:
    """Write one ``.pot`` per catalogue under ``output``; return their paths."""
    written = []
    for name, found in all_messages(root).items():
        catalog = Catalog(project="Softmax Notes", version="", charset="utf-8", fuzzy=False)
        for message in found:
            existing = catalog.get(message.text)
            if existing is not None:
                existing.locations.append((message.location, None))
            else:
                added = catalog.add(message.text, locations=[(message.location, None)])
                added.flags.clear()  # babel guesses "python-brace-format" from {role} syntax
        path = output / f"{name}.pot"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=0, omit_header=False, include_lineno=False)
        written.append(path)
    return written


def po_path(name: str, language: str, locales: Path = LOCALES) -> Path:
    """Where the translations of catalogue ``name`` into ``language`` live."""
    return locales / language / "LC_MESSAGES" / f"{name}.po"


def read_catalogue(path: Path) -> Catalog:
    """A ``.po`` file, parsed (obsolete messages in ``catalog.obsolete``)."""
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=True)


def translations(name: str, language: str, locales: Path = LOCALES) -> dict[str, str]:
    """English text -> translation for catalogue ``name``: only messages translated and not fuzzy."""
    path = po_path(name, language, locales)
    if not path.exists():
        return {}
    return {message.id: message.string for message in read_catalogue(path)
            if message.id and message.string and not message.fuzzy}
