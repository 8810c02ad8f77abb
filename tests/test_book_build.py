"""The book builds from clean with warnings as errors, and the built site is self-contained.

One from-clean build per test session (``--all`` into a fresh output folder: incremental builds
hide warnings), shared by the tests of this module; they run on one xdist worker (``xdist_group``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from booktools import REPO, config, toc_entries
from browser import CHROMIUM_ARGS, INSTALL_HINT, PageReport, chromium_executable, is_local, serve, visit

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
    """The built page of every toc entry."""
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


def test_launch_buttons_point_at_the_chapter_notebooks(build):
    """Binder and Colab URLs are built from the one repository URL in _config.yml."""
    repository = config()["repository"]
    owner_repo = urlsplit(repository["url"]).path.strip("/")
    branch = repository["branch"]
    for entry in toc_entries():
        if not entry.startswith("chapters/"):
            continue
        html = (build.html / f"{entry}.html").read_text(encoding="utf-8")
        binder = f"https://mybinder.org/v2/gh/{owner_repo}/{branch}?urlpath=lab/tree/{entry}.ipynb"
        colab = f"https://colab.research.google.com/github/{owner_repo}/blob/{branch}/{entry}.ipynb"
        assert f'href="{binder}"' in html, f"{entry}: no Binder link {binder}"
        assert f'href="{colab}"' in html, f"{entry}: no Colab link {colab}"


# ---------------------------------------------------------------- the site in a real browser

SCREENSHOTS = REPO / "_build" / "screenshots"


@pytest.fixture(scope="module")
def browser_reports(build) -> dict[str, PageReport]:
    """Every page of the built site, loaded in headless Chromium with the network cut off: any
    request that does not go to 127.0.0.1 is recorded and aborted."""
    if not (build.html / "intro.html").exists():
        pytest.fail("the book did not build; see test_book_builds_from_clean_with_no_warnings")
    executable = chromium_executable()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is missing under CI: {INSTALL_HINT}")
        pytest.skip(f"Chromium not found: {INSTALL_HINT}")
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    reports: dict[str, PageReport] = {}
    blocked: list[str] = []

    def offline(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with serve(build.html) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", offline)
        for entry in toc_entries():
            blocked.clear()
            report = visit(context, base_url, entry, SCREENSHOTS / f"{entry.replace('/', '__')}.png")
            report.blocked_requests = list(blocked)
            reports[entry] = report
        browser.close()
    return reports


def failures(reports: dict[str, PageReport], attribute: str) -> dict[str, object]:
    return {name: getattr(r, attribute) for name, r in reports.items() if getattr(r, attribute)}


def test_every_formula_is_typeset(browser_reports):
    assert not failures(browser_reports, "untypeset_math"), "math elements MathJax did not typeset"
    assert not failures(browser_reports, "raw_tex"), "raw TeX left in the rendered text"
    typeset = {name: r.typeset_math for name, r in browser_reports.items()}
    assert typeset["intro"] > 0 and all(typeset[e] > 0 for e in typeset if e.startswith("chapters/"))


def test_every_image_loads(browser_reports):
    assert not failures(browser_reports, "broken_images")
    for name, report in browser_reports.items():
        if name.startswith("chapters/"):
            assert report.images > 0, f"{name} shows no figure"


def test_no_request_leaves_the_machine(browser_reports):
    assert not failures(browser_reports, "blocked_requests"), "requests to the network (CDN?)"


def test_no_missing_asset(browser_reports):
    assert not failures(browser_reports, "failed_responses")


def test_no_javascript_console_errors(browser_reports):
    assert not failures(browser_reports, "console_errors")


def test_launch_menu_and_download_button_are_present(browser_reports):
    for name, report in browser_reports.items():
        assert report.has_download, f"{name}: no download button"
        if name.startswith("chapters/"):
            assert report.has_launch_binder and report.has_launch_colab, f"{name}: launch menu incomplete"


def test_internal_links_resolve(build, browser_reports):
    """Every link to a page of the site points at a file that exists, and at an anchor on it."""
    broken = []
    for name, report in browser_reports.items():
        for link in report.links:
            parts = urlsplit(link)
            if not is_local(link) or parts.scheme not in {"http", "https"}:
                continue
            target = build.html / parts.path.lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{name} -> {parts.path}")
            elif parts.fragment and target.suffix == ".html":
                html = target.read_text(encoding="utf-8")
                if f'id="{parts.fragment}"' not in html:
                    broken.append(f"{name} -> {parts.path}#{parts.fragment}")
    assert not broken, f"broken internal links: {sorted(set(broken))}"


def test_screenshots_of_every_page_are_kept(browser_reports):
    for name in browser_reports:
        shot = SCREENSHOTS / f"{name.replace('/', '__')}.png"
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {name}"
