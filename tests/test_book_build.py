"""The book builds from clean with warnings as errors, and the built site is self-contained.

One from-clean build per test session (``--all`` into a fresh output folder: incremental builds
hide warnings), shared by the tests of this module; they run on one xdist worker (``xdist_group``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from booktools import REPO, toc_entries

pytestmark = pytest.mark.xdist_group("book")

BUILD_ROOT = REPO / "_build" / "test-build"
SPHINX_WARNING = re.compile(r"(WARNING|ERROR|CRITICAL):")


@dataclass(frozen=True)
class Build:
    returncode: int
    log: str
    html: Path


@pytest.fixture(scope="module")
def build() -> Build:
    shutil.rmtree(BUILD_ROOT, ignore_errors=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", "--all", "-W", "-n", "--keep-going",
               "--path-output", str(BUILD_ROOT), str(REPO)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=REPO)
    log = result.stdout + result.stderr
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    (BUILD_ROOT / "build.log").write_text(log, encoding="utf-8")
    return Build(result.returncode, log, BUILD_ROOT / "_build" / "html")


def test_book_builds_from_clean_with_no_warnings(build):
    warnings = [line for line in build.log.splitlines() if SPHINX_WARNING.search(line)]
    assert build.returncode == 0 and not warnings, (
        f"jupyter-book build failed (exit {build.returncode}); see {BUILD_ROOT / 'build.log'}:\n"
        + "\n".join(warnings[:40] or build.log.splitlines()[-40:])
    )


def pages(build: Build) -> list[Path]:
    return [build.html / f"{entry}.html" for entry in toc_entries()]


def test_every_toc_entry_is_a_page(build):
    missing = [str(p.relative_to(build.html)) for p in pages(build) if not p.exists()]
    assert not missing, f"pages missing from the built site: {missing}"


def test_math_is_served_locally_not_from_a_cdn(build):
    assert (build.html / "_static" / "mathjax" / "tex-chtml.js").exists()
    for page in pages(build):
        html = page.read_text(encoding="utf-8")
        if 'class="math' in html:
            assert "_static/mathjax/tex-chtml.js" in html, f"{page.name} does not load the local MathJax"
        assert not re.search(r"<script[^>]+src=\"https?://", html), f"{page.name} loads a remote script"


def test_no_traceback_or_error_output_in_pages(build):
    for page in pages(build):
        html = page.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" not in html, f"{page.name} shows a traceback"
        assert "output stderr" not in html, f"{page.name} shows stderr output (a warning in a cell?)"
