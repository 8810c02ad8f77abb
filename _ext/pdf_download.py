"""Sphinx extension: the ``{{ pdf_download }}`` substitution, a link to the book's PDF.

The Pages workflow (``.github/workflows/pages.yml``) builds the PDFs with the README's third
command and publishes them beside the website: ``softmax-notes.pdf`` and, for instructors,
``softmax-notes-student.pdf``. The front page links to them by their published address, derived
from the one repository URL in ``_config.yml`` (``repository.url``, which a fork changes):
``https://github.com/OWNER/REPO`` is published at ``https://OWNER.github.io/REPO/``. An absolute
address, because a local build of the site holds no PDF (the tests check every link inside the
site) and the PDF itself links to its download too.

The student edition (``hide_solutions``) links to the student PDF instead.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.config import Config

BOOK_PDF = "softmax-notes.pdf"
STUDENT_PDF = "softmax-notes-student.pdf"


def published_site(repository_url: str) -> str:
    """The GitHub Pages address of a GitHub repository (with a trailing slash), or ''."""
    parts = urlsplit(repository_url)
    path = [piece for piece in parts.path.split("/") if piece]
    if parts.hostname != "github.com" or len(path) < 2:
        return ""
    owner, repo = path[0], path[1].removesuffix(".git")
    if repo.lower() == f"{owner.lower()}.github.io":
        return f"https://{repo}/"
    return f"https://{owner}.github.io/{repo}/"


def add_substitution(app: Sphinx, config: Config) -> None:
    theme_options = config.html_theme_options or {}
    site = published_site(theme_options.get("repository_url", ""))
    name = STUDENT_PDF if getattr(config, "hide_solutions", False) else BOOK_PDF
    link = f"[{name}]({site}{name})" if site else f"`{name}`"
    config.myst_substitutions = {**(config.myst_substitutions or {}), "pdf_download": link}


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", add_substitution, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
