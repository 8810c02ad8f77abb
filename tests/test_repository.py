"""The repository's promises: a pinned environment (Binder's subset is checked in test_binder.py), two README setup commands
(and a third that builds the PDFs), CI running exactly the README's test command, licences."""

from __future__ import annotations

import re

from booktools import REPO, readme_command


def requirement_lines() -> list[str]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_jupyter_book_is_pinned_to_1x():
    assert "jupyter-book==1.0.4.post1" in requirement_lines()


def test_every_requirement_is_pinned_except_the_package_itself():
    for line in requirement_lines():
        assert line == "-e ." or re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), line


def test_runtime_is_python_311():
    assert (REPO / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"


def test_readme_has_exactly_two_commands_that_set_up_from_requirements():
    """Two setup commands (site, tests), and a third that builds the PDFs in that environment."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.count("```bash") == 3
    build = readme_command("**Set up and build the website**")
    tests = readme_command("**Set up and run every test**")
    for command in (build, tests):
        assert command.startswith("python3.11 -m venv .venv && .venv/bin/pip install -q -r requirements.txt")
    assert "jupyter-book build --all" in build
    assert build.endswith("&& .venv/bin/python tools/build_edition.py zh")  # English at /, Chinese at /zh/
    assert "pytest" in tests and "--nbmake" in tests and "chapters" in tests
    pdfs = readme_command("**Build the PDFs**")
    assert pdfs == (".venv/bin/jupyter-book build --all --builder pdflatex . && "
                    ".venv/bin/python tools/build_edition.py student --pdf")
    assert text.index(tests) < text.index(pdfs)  # the third command comes after the two


def test_ci_runs_exactly_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    commands = [line for line in ci.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    assert commands[-1] == readme_command("**Set up and run every test**")
    assert "set -euo pipefail" in ci


def test_licences_are_present_and_named_in_the_readme():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in text and "MIT" in text
    assert "MIT License" in (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in (REPO / "LICENSE-CONTENT.md").read_text(encoding="utf-8")


def test_line_endings_are_normalised():
    assert "* text=auto eol=lf" in (REPO / ".gitattributes").read_text(encoding="utf-8")


def test_test_command_keeps_each_test_file_on_one_worker():
    """tests/test_book_build.py builds the book once per session in one folder; two workers
    building at once would clobber each other, so whole files are distributed."""
    assert "--dist loadfile" in readme_command("**Set up and run every test**")
