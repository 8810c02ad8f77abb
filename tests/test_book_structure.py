"""Structural tests of the book: the table of contents, the notebooks, the configuration."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from booktools import (
    CHAPTERS,
    REPO,
    chapter_notebooks,
    config,
    load_notebook,
    markdown_text,
    source_of,
    toc,
    toc_entries,
)

NOTEBOOKS = chapter_notebooks()
IDS = [path.stem for path in NOTEBOOKS]


def test_toc_is_a_jupyter_book_1_book_with_captioned_parts():
    assert toc()["format"] == "jb-book"
    parts = toc()["parts"]
    assert parts and all(part.get("caption") for part in parts)


def test_every_toc_entry_exists():
    for entry in toc_entries():
        source_of(entry)  # raises if missing


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(toc_entries())
    unlisted = [p.name for p in NOTEBOOKS if f"chapters/{p.stem}" not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"


def test_toc_lists_no_entry_twice():
    entries = toc_entries()
    assert len(entries) == len(set(entries))


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 1 and CHAPTERS.is_dir()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_is_committed_without_outputs(path):
    for cell in load_notebook(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name}: a code cell carries outputs"
            assert cell.get("execution_count") is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_has_one_h1_in_its_first_cell(path):
    cells = load_notebook(path)["cells"]
    assert cells[0]["cell_type"] == "markdown"
    assert "".join(cells[0]["source"]).lstrip().startswith("# ")
    in_fence = False
    h1_count = 0
    for line in markdown_text(load_notebook(path)).splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        elif not in_fence and re.match(r"# \S", line):
            h1_count += 1
    assert h1_count == 1, f"{path.name} has {h1_count} H1 headings"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_uses_the_python3_kernel(path):
    assert load_notebook(path)["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_notebook_seeds_every_random_generator(path):
    code = "\n".join(
        "".join(c["source"]) for c in load_notebook(path)["cells"] if c["cell_type"] == "code"
    )
    assert not re.search(r"np\.random\.(rand|randn|randint|random|normal|uniform|choice|seed)\(", code), (
        f"{path.name}: use a seeded np.random.default_rng(seed), not the global generator"
    )
    assert not re.search(r"default_rng\(\s*\)", code), f"{path.name}: default_rng() without a seed"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_every_exercise_has_a_solution(path):
    text = markdown_text(load_notebook(path))
    exercises = re.findall(r"```\{exercise\}[^\n]*\n:label: (\S+)", text)
    solutions = re.findall(r"```\{solution(?:-start)?\} (\S+)", text)
    assert len(exercises) >= 3, f"{path.name} has {len(exercises)} exercises, expected at least 3"
    assert sorted(exercises) == sorted(solutions), f"{path.name}: exercises {exercises}, solutions {solutions}"
    assert text.count("{solution-start}") == text.count("{solution-end}")


def test_config_executes_notebooks_and_builds_only_toc_files():
    cfg = config()
    assert cfg["only_build_toc_files"] is True
    assert cfg["execute"]["execute_notebooks"] in {"cache", "force"}
    assert cfg["execute"].get("allow_errors") is False


def test_config_uses_the_extensions_the_book_needs():
    extensions = config()["sphinx"]["extra_extensions"]
    for name in ("sphinx_proof", "sphinx_exercise", "sphinx-mathjax-offline"):
        assert name in extensions
    assert config()["bibtex_bibfiles"] == ["references.bib"]
    assert (REPO / "references.bib").exists()


def test_config_has_launch_buttons_and_a_repository():
    buttons = config()["launch_buttons"]
    assert buttons["binderhub_url"].startswith("https://")
    assert buttons["colab_url"].startswith("https://colab.research.google.com")
    repository = config()["repository"]
    assert repository["url"].startswith("https://github.com/")
    assert repository["branch"] == "main"


COLAB_CELL = re.compile(
    r"try:\n\s+import softmaxnotes\nexcept ImportError:\n\s+%pip install --quiet "
    r"\"softmaxnotes @ git\+(?P<url>\S+)\"\s*$"
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_installs_softmaxnotes_on_colab_only(path):
    """Colab does not read requirements.txt: the first code cell installs the package there, from
    the repository named in _config.yml, and is removed from the website."""
    first_code = next(c for c in load_notebook(path)["cells"] if c["cell_type"] == "code")
    source = "".join(first_code["source"])
    match = COLAB_CELL.search(source)
    assert match, f"{path.name}: first code cell is not the Colab install cell:\n{source}"
    assert match.group("url") == config()["repository"]["url"]
    assert "remove-cell" in first_code.get("metadata", {}).get("tags", [])


# --------------------------------------------------------------------------------------------------
# "chapter N" in the text and the docstrings: the number is the one the book displays, and a quoted
# title is that chapter's title or one of its headings
# --------------------------------------------------------------------------------------------------

CHAPTER_ENTRIES = [entry for entry in toc_entries() if entry.startswith("chapters/")]
CITED_TITLE = re.compile(r'[Cc]hapter\s+(\d+)(?:,\s*|\s*\(\s*)"([^"]+)"')
CITED_NUMBER = re.compile(r"\b[Cc]hapters?\s+(\d+)\b")


def headings_of(entry: str) -> list[str]:
    """The H1 and every section heading of a chapter notebook, as written in its markdown."""
    text = markdown_text(load_notebook(source_of(entry)))
    return [match.group(1).strip() for match in re.finditer(r"^#{1,6}\s+(.+)$", text, flags=re.M)]


def texts_that_cite_chapters() -> dict[str, str]:
    """Every text a reader or a contributor sees chapter numbers in: the package's and the scripts'
    sources, the Markdown pages and the notebooks (markdown and code cells)."""
    texts = {}
    for pattern in ("softmaxnotes/*.py", "benchmarks/*.py", "tools/*.py", "*.md"):
        for path in sorted(REPO.glob(pattern)):
            texts[path.relative_to(REPO).as_posix()] = path.read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        cells = load_notebook(path)["cells"]
        texts[path.relative_to(REPO).as_posix()] = "\n\n".join("".join(cell["source"]) for cell in cells)
    return texts


def test_chapters_are_numbered_in_the_order_of_their_file_names():
    """The book numbers chapters through all parts (1, 2, ... in toc order); the file names'
    prefixes must say the same, so that "chapter 6" in a text means chapters/06_*."""
    numbers = [int(Path(entry).name.split("_", 1)[0]) for entry in CHAPTER_ENTRIES]
    assert numbers == list(range(1, len(CHAPTER_ENTRIES) + 1))
    assert all(part.get("numbered") for part in toc()["parts"] if any(
        chapter["file"].startswith("chapters/") for chapter in part["chapters"]))


def test_every_cited_chapter_number_exists():
    for name, text in texts_that_cite_chapters().items():
        for match in CITED_NUMBER.finditer(text):
            assert 1 <= int(match.group(1)) <= len(CHAPTER_ENTRIES), f"{name}: {match.group(0)!r}"


def test_every_quoted_chapter_title_belongs_to_that_chapter():
    """``chapter 6, "Softmax in floating point"`` and ``chapter 1 ("softmax as the gradient of
    log-sum-exp")``: the quoted words are that chapter's title or one of its headings."""
    cited = 0
    for name, text in texts_that_cite_chapters().items():
        for match in CITED_TITLE.finditer(text):
            number, title = int(match.group(1)), " ".join(match.group(2).split())
            headings = [heading.lower() for heading in headings_of(CHAPTER_ENTRIES[number - 1])]
            assert title.lower() in headings, f"{name}: {match.group(0)!r} is not a heading of chapter {number}"
            cited += 1
    assert cited >= 10  # the package's docstrings cite chapters this way
