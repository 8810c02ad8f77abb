"""Shared helpers for the book's structural, build and browser tests: where things are, and how to
read the table of contents, the configuration and the notebooks."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = REPO / "chapters"


@cache
def config() -> dict:
    """The parsed ``_config.yml``."""
    return yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))


@cache
def toc() -> dict:
    """The parsed ``_toc.yml``."""
    return yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))


def toc_entries() -> list[str]:
    """Every ``file`` entry of the table of contents, root first, without extension."""
    entries = [toc()["root"]]
    for part in toc().get("parts", []):
        for chapter in part.get("chapters", []):
            entries.append(chapter["file"])
            entries.extend(section["file"] for section in chapter.get("sections", []))
    return entries


def source_of(entry: str) -> Path:
    """The source file of a toc entry: ``entry.ipynb`` or ``entry.md``; raises if neither exists."""
    for suffix in (".ipynb", ".md"):
        path = REPO / f"{entry}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"_toc.yml entry {entry!r} has no .ipynb or .md source")


def chapter_notebooks() -> list[Path]:
    """Every notebook in ``chapters/``, sorted."""
    return sorted(CHAPTERS.glob("*.ipynb"))


def load_notebook(path: Path) -> dict:
    """A notebook as plain JSON."""
    return json.loads(path.read_text(encoding="utf-8"))


def markdown_text(notebook: dict) -> str:
    """All markdown cells of a notebook, joined."""
    return "\n\n".join(
        "".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "markdown"
    )


def readme_command(heading_words: str) -> str:
    """The command in the first ```bash block after the README paragraph starting with ``heading_words``."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(heading_words)
    match = re.search(r"```bash\n(.+?)\n```", text[start:], flags=re.S)
    if match is None:
        raise AssertionError(f"no bash block after {heading_words!r} in README.md")
    return match.group(1).strip()


def wait_for_fresh_file(path: Path, since: float, timeout: float, what: str) -> None:
    """Wait until ``path`` exists and was written after ``since`` (the log another xdist worker
    writes when a build of this session ends); fail after ``timeout`` seconds."""
    import time

    import pytest

    deadline = time.time() + timeout
    while not (path.exists() and path.stat().st_mtime >= since):
        if time.time() > deadline:
            pytest.fail(f"{what} did not finish: no fresh {path}")
        time.sleep(2)
