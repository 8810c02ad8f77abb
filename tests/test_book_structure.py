"""Structural tests of the book: the table of contents, the notebooks, the configuration."""

from __future__ import annotations

import re

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
