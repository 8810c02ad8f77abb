"""The book builds from clean with warnings as errors, and the built site is self-contained.

One from-clean build per test session (``--all`` into a fresh output folder: incremental builds
hide warnings), shared by the tests of this module; they run on one xdist worker because the test
command distributes whole files (``--dist loadfile``).
The fixtures are session-scoped: a module-scoped fixture is torn down whenever the worker runs a
test of another module in between, and would build the book again.
The student edition (``tools/build_edition.py student``) is built after it, from its jupyter cache.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from booktools import REPO, chapter_notebooks, config, load_notebook, toc_entries
from browser import (
    AXE_FAILING_IMPACTS, AXE_HINT, MODES, PageReport, broken_links, browse, browser_and_axe,
)

BUILD_ROOT = REPO / "_build" / "test-build"
SPHINX_WARNING = re.compile(r"(WARNING|ERROR|CRITICAL):")


@dataclass(frozen=True)
class Build:
    returncode: int
    log: str
    html: Path


def run_build(command: list[str], log_folder: Path, html: Path) -> Build:
    """Run a build command from the repository root; keep its log in ``log_folder/build.log``."""
    result = subprocess.run(command, capture_output=True, text=True, timeout=1200, cwd=REPO)
    log = result.stdout + result.stderr
    log_folder.mkdir(parents=True, exist_ok=True)
    (log_folder / "build.log").write_text(log, encoding="utf-8")
    return Build(result.returncode, log, html)


@pytest.fixture(scope="session")
def build() -> Build:
    shutil.rmtree(BUILD_ROOT, ignore_errors=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", "--all", "-W", "-n", "--keep-going",
               "--path-output", str(BUILD_ROOT), str(REPO)]
    return run_build(command, BUILD_ROOT, BUILD_ROOT / "_build" / "html")


def assert_built_with_no_warnings(built: Build, what: str, log_folder: Path) -> None:
    warnings = [line for line in built.log.splitlines() if SPHINX_WARNING.search(line)]
    assert built.returncode == 0 and not warnings, (
        f"{what} failed (exit {built.returncode}); see {log_folder / 'build.log'}:\n"
        + "\n".join(warnings[:40] or built.log.splitlines()[-40:])
    )


def test_book_builds_from_clean_with_no_warnings(build):
    assert_built_with_no_warnings(build, "jupyter-book build", BUILD_ROOT)


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


def test_every_figure_has_a_caption_and_alt_text(build):
    """Figures made by the notebooks (served from _images/) carry a written alt text, not the
    file name that Sphinx falls back to, and sit in a captioned figure."""
    for entry in toc_entries():
        html = (build.html / f"{entry}.html").read_text(encoding="utf-8")
        for tag in re.findall(r"<img [^>]*src=\"[^\"]*_images/[^>]*>", html):
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and len(alt.group(1)) > 20 and not alt.group(1).endswith(".png"), (
                f"{entry}: figure without alt text: {tag[:120]}")
        figures = len(re.findall(r"<img [^>]*src=\"[^\"]*_images/", html))
        captions = len(re.findall(r'<figcaption', html))
        assert captions >= figures, f"{entry}: {figures} figures but {captions} captions"


# ---------------------------------------------------------------- the site in a real browser

SCREENSHOTS = REPO / "_build" / "screenshots"
DARK_SCREENSHOTS = SCREENSHOTS / "dark"
AXE = {"installed": False}
AUDITED_SEARCH: dict[str, PageReport] = {}  # the search page, audited too (it is not a toc entry)


@pytest.fixture(scope="session")
def browser_reports(build) -> dict[str, PageReport]:
    """Every page of the built site, loaded in headless Chromium with the network cut off: any
    request that does not go to 127.0.0.1 is recorded and aborted. Each page is then audited with
    axe-core in light and dark mode (when axe-core is installed: ``npm ci``; required under CI).
    The Chinese edition's pages: tests/test_chinese_edition.py."""
    if not (build.html / "intro.html").exists():
        pytest.fail("the book did not build; see test_book_builds_from_clean_with_no_warnings")
    executable, axe = browser_and_axe()
    AXE["installed"] = axe is not None
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    seen = browse(build.html, toc_entries(), executable, SCREENSHOTS, axe, DARK_SCREENSHOTS,
                  [("", query) for query in ENGLISH_QUERIES], [("", "Jacobian")])
    SEARCHES.update(seen.searches)
    SEARCHES["blocked"] = seen.blocked_in_searches
    AUDITED_SEARCH.update(seen.audited_searches)
    return seen.reports


ENGLISH_QUERIES = ["Jacobian", "temperature"]
SEARCHES: dict[str, list[str]] = {}


def test_search_finds_the_chapters(browser_reports):
    """Sphinx's client-side search works offline and finds the pages that treat a topic."""
    assert not SEARCHES["blocked"]
    assert any("Jacobian" in title for title in SEARCHES["Jacobian"]), SEARCHES["Jacobian"]
    assert any("What softmax is" in title for title in SEARCHES["temperature"]), SEARCHES["temperature"]


def chapter_page(name: str) -> bool:
    """Whether a visited page (``chapters/...`` or ``zh/chapters/...``) is a chapter."""
    return name.removeprefix("zh/").startswith("chapters/")


def failures(reports: dict[str, PageReport], attribute: str) -> dict[str, object]:
    return {name: getattr(r, attribute) for name, r in reports.items() if getattr(r, attribute)}


def test_every_formula_is_typeset(browser_reports):
    assert not failures(browser_reports, "untypeset_math"), "math elements MathJax did not typeset"
    assert not failures(browser_reports, "raw_tex"), "raw TeX left in the rendered text"
    typeset = {name: r.typeset_math for name, r in browser_reports.items()}
    assert typeset["intro"] > 0 and all(typeset[e] > 0 for e in typeset if chapter_page(e))


def test_every_image_loads(browser_reports):
    assert not failures(browser_reports, "broken_images")
    for name, report in browser_reports.items():
        if chapter_page(name):
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
        if chapter_page(name):
            assert report.has_launch_binder and report.has_launch_colab, f"{name}: launch menu incomplete"


def test_internal_links_resolve(build, browser_reports):
    """Every link to a page of the site points at a file that exists, and at an anchor on it.
    (The language switch's links into zh/: tests/test_chinese_edition.py, which builds the
    Chinese edition and checks them.)"""
    broken = broken_links(browser_reports, build.html, skip="/zh/")
    assert not broken, f"broken internal links: {broken}"


def test_screenshots_of_every_page_are_kept(browser_reports):
    for name in browser_reports:
        shot = SCREENSHOTS / f"{name.replace('/', '__')}.png"
        assert shot.exists() and shot.stat().st_size > 10_000, f"no screenshot of {name}"
        for figure in browser_reports[name].dark_figures:
            assert figure.screenshot.exists() and figure.screenshot.stat().st_size > 5_000, (
                f"no dark-mode screenshot of {figure.src} on {name}")


def test_no_serious_or_critical_accessibility_violation(browser_reports):
    """axe-core 4 (the engine of browsers' accessibility audits) finds no serious or critical
    violation on any page, in the theme's light mode or its dark mode, with every solution, hidden
    cell and dropdown opened; nor on the search page with results (searched words highlighted).
    The fixes live in _ext/accessibility.py (markup), _static/accessibility.css (colours) and
    _static/accessibility.js (keyboard access)."""
    if not AXE["installed"]:
        pytest.skip(f"axe-core not installed: {AXE_HINT}")
    audited = {**browser_reports, **AUDITED_SEARCH}
    assert AUDITED_SEARCH, "the search page was not audited"
    not_audited = {name: r.audited_modes for name, r in audited.items()
                   if tuple(r.audited_modes) != MODES}
    assert not not_audited, f"pages where a colour mode did not apply: {not_audited}"
    violations = [v for report in audited.values() for v in report.violations]
    counts: dict[str, int] = {}
    for v in violations:
        counts[v.rule] = counts.get(v.rule, 0) + len(v.targets)
    assert not violations, (
        f"{sum(counts.values())} {' or '.join(AXE_FAILING_IMPACTS)} accessibility violations "
        f"(elements per rule: {counts}):\n" + "\n".join(str(v) for v in violations))


def test_figures_stay_legible_in_dark_mode(browser_reports):
    """In dark mode the theme puts a light background behind images (a transparent part of a figure
    would otherwise show the dark page, and black axes and labels vanish into it): every figure's
    image sits on an opaque background of luminance at least 0.5. Screenshots of the figures in
    dark mode: _build/screenshots/dark/."""
    if not AXE["installed"]:
        pytest.skip(f"axe-core not installed: {AXE_HINT}")
    for name, report in browser_reports.items():
        if chapter_page(name) and report.images:
            assert report.dark_figures, f"{name}: no figure found in dark mode"
    dark = {f"{name}: {figure.src.rsplit('/', 1)[-1]}": figure.background
            for name, report in browser_reports.items() for figure in report.dark_figures
            if figure.background_luminance < 0.5}
    assert not dark, f"figures on a dark or transparent background in dark mode: {dark}"


def test_screen_readers_get_every_formula_as_mathml(browser_reports):
    """MathJax's assistive MathML is on (mathjax3_config in _config.yml): each typeset formula
    carries a hidden <mjx-assistive-mml> copy holding a non-empty <math> element, which screen
    readers read (the visible rendering is aria-hidden). MathJax 3's menu decides at start-up
    (its ``assistiveMml`` setting overrides ``enableAssistiveMml``), so both are set."""
    options = config()["sphinx"]["config"]["mathjax3_config"]["options"]
    assert options["enableAssistiveMml"] is True
    assert options["menuOptions"]["settings"]["assistiveMml"] is True
    missing = {name: f"{r.assistive_mathml} of {r.typeset_math}" for name, r in browser_reports.items()
               if r.assistive_mathml != r.typeset_math}
    assert not missing, f"formulas without assistive MathML (with / typeset): {missing}"
    assert browser_reports["intro"].assistive_mathml > 0


# ---------------------------------------------------------------- the student edition

STUDENT_ROOT = REPO / "_build" / "test-student"


@pytest.fixture(scope="session")
def student_build(build) -> Build:
    """The student edition, built by the README's student command after the main build (same
    xdist worker) and reading the notebooks' outputs from the main build's jupyter cache."""
    shutil.rmtree(STUDENT_ROOT, ignore_errors=True)
    command = [sys.executable, str(REPO / "tools" / "build_edition.py"), "student",
               "--output", str(STUDENT_ROOT),
               "--cache", str(BUILD_ROOT / "_build" / ".jupyter_cache")]
    return run_build(command, STUDENT_ROOT, STUDENT_ROOT / "_build" / "html")


@dataclass
class Solution:
    """One solution of a chapter notebook: its exercise label, its prose and its code."""
    label: str
    prose: list[str]
    code: list[str]


_DIRECTIVE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\{(solution|solution-start|solution-end)\}\s*(\S*)")


def _closes(line: str, fence: str) -> bool:
    stripped = line.strip()
    return len(stripped) >= len(fence) and set(stripped) == {fence[0]}


def solutions_and_rest(notebook: dict) -> tuple[list[Solution], str]:
    """Every solution of a notebook (``{solution}`` blocks, and everything between
    ``{solution-start}`` and ``{solution-end}``, code cells included), and all its other text."""
    found: list[Solution] = []
    rest: list[str] = []
    current: Solution | None = None  # the solution being read
    fence: str | None = None         # the fence of a {solution} block being read
    gated = False
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "markdown":
            (current.code if gated and current else rest).append(source)
            # a code cell's figure caption and alt text (mystnb metadata) show on the page too
            figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
            rest.extend(str(value) for value in figure.values())
            image = cell.get("metadata", {}).get("mystnb", {}).get("image", {})
            rest.extend(str(value) for value in image.values())
            continue
        for line in source.splitlines():
            if fence is not None:
                if _closes(line, fence):
                    fence = None
                elif current is not None and not line.startswith(":"):
                    current.prose.append(line)
                continue
            match = _DIRECTIVE.match(line)
            if match and match[2] == "solution":
                current = Solution(match[3], [], [])
                found.append(current)
                fence = match[1]
            elif match and match[2] == "solution-start":
                current = Solution(match[3], [], [])
                found.append(current)
                gated, fence = True, match[1]
            elif match and match[2] == "solution-end":
                gated, current, fence = False, None, match[1]
            elif gated and current is not None:
                current.prose.append(line)
            else:
                rest.append(line)
    return found, "\n".join(rest)


def normalise(text: str) -> str:
    return " ".join(text.split())


def distinctive_fragments(solution: Solution, rest: str) -> list[str]:
    """Pieces of a solution that should appear verbatim in its rendered page (up to whitespace)
    and appear nowhere else in the notebook: runs of six or more plain words of the prose, the TeX
    of its formulas, and its longer code lines."""
    prose = re.sub(r"^\s*(?:[-+*]|\d+\.)\s+", "", "\n".join(solution.prose), flags=re.M)
    maths = re.findall(r"\$\$(.+?)\$\$|\$([^$]+?)\$", prose, flags=re.S)
    fragments = [normalise(a or b) for a, b in maths if len(normalise(a or b)) >= 12]
    plain = re.sub(r"\$\$.+?\$\$|\$[^$]+?\$|\{[^}]*\}`[^`]*`|`[^`]*`", "|", prose, flags=re.S)
    for piece in re.split(r"[|*_()\[\]{}<>#\"'“”‘’:]|--|\.\.\.", plain):
        words = piece.strip(" \n.,;!?").split()
        if sum(word.isalpha() for word in words) >= 6:
            fragments.append(" ".join(words))
    for code in solution.code:
        fragments += [normalise(line) for line in code.splitlines() if len(line.strip()) >= 25]
    other = normalise(rest)
    return [f for f in dict.fromkeys(fragments) if f not in other]


class _PageText(HTMLParser):
    """The text of a page's article (outside scripts and styles; not the navigation) and the class
    names of its elements."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.classes: set[str] = set()
        self._skip = 0
        self._article = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skip += tag in {"script", "style"}
        self._article += tag == "article"
        for name, value in attrs:
            if name == "class" and value:
                self.classes.update(value.split())

    def handle_endtag(self, tag: str) -> None:
        self._skip -= self._skip > 0 and tag in {"script", "style"}
        self._article -= self._article > 0 and tag == "article"

    def handle_data(self, data: str) -> None:
        if self._article and not self._skip:
            self.parts.append(data)


def page_text(path: Path) -> tuple[str, set[str]]:
    parser = _PageText()
    parser.feed(path.read_text(encoding="utf-8"))
    return normalise("".join(parser.parts)), parser.classes


def chapter_solutions() -> list[tuple[Path, list[Solution], str]]:
    chapters = []
    for path in chapter_notebooks():
        found, rest = solutions_and_rest(load_notebook(path))
        chapters.append((path, found, rest))
    return chapters


def test_student_edition_builds_with_no_warnings(student_build):
    assert_built_with_no_warnings(student_build, "the student edition", STUDENT_ROOT)


def test_student_edition_reuses_the_main_build_cache(student_build):
    """No notebook runs twice in a test session (unless it was edited between the two builds)."""
    executed = [line for line in student_build.log.splitlines() if "Executing notebook" in line]
    assert not executed, (
        "the student edition executed notebooks again instead of reading the main build's cache:\n"
        + "\n".join(executed)
    )


def test_student_edition_has_every_page_and_its_title(student_build):
    missing = [str(p.relative_to(student_build.html)) for p in pages(student_build) if not p.exists()]
    assert not missing, f"pages missing from the student edition: {missing}"
    intro = (student_build.html / "intro.html").read_text(encoding="utf-8")
    assert "(student edition)" in intro
    assert "language-switch" not in intro  # no Chinese student edition beside it to link to


def test_the_test_finds_every_solution_in_the_normal_build(build):
    """Every solution of every notebook is found by the parser above and shown by the normal build:
    otherwise the student-edition test below could pass for the wrong reason."""
    for path, found, rest in chapter_solutions():
        exercises = re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", rest)
        assert sorted(s.label for s in found) == sorted(exercises), path.name
        text, classes = page_text(build.html / "chapters" / f"{path.stem}.html")
        assert "solution" in classes, f"{path.name}: no solution element in the normal build"
        assert text.count("Solution to Exercise") == len(found), path.name
        for solution in found:
            shown = [f for f in distinctive_fragments(solution, rest) if f in text]
            assert shown, (f"{path.name}: no text of the solution to {solution.label} found in the "
                           "normal build; the student-edition test could not see it either")


def test_student_edition_has_the_exercises_and_no_solution(build, student_build):
    for path, found, rest in chapter_solutions():
        page = student_build.html / "chapters" / f"{path.stem}.html"
        text, classes = page_text(page)
        html = page.read_text(encoding="utf-8")
        assert not classes & {"solution", "solution-start"}, f"{path.name}: a solution element"
        assert "Solution to" not in text, f"{path.name}: a solution title"
        exercises = re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", rest)
        for label in exercises:
            assert f'id="{label}"' in html, f"{path.name}: exercise {label} missing"
        normal_text, _ = page_text(build.html / "chapters" / f"{path.stem}.html")
        for solution in found:
            leaked = [f for f in distinctive_fragments(solution, rest)
                      if f in normal_text and f in text]
            assert not leaked, f"{path.name}: the solution to {solution.label} shows: {leaked[:3]}"


def test_student_edition_downloads_have_no_solution(build, student_build):
    """The .ipynb that each page's download button offers has its exercises and no solutions."""
    for path, found, rest in chapter_solutions():
        source = f"_sources/chapters/{path.name}"
        normal = (build.html / source).read_text(encoding="utf-8")
        assert "{solution" in normal, f"the normal build's {source} has no solution"
        notebook = json.loads((student_build.html / source).read_text(encoding="utf-8"))
        stripped, stripped_rest = solutions_and_rest(notebook)
        assert not stripped and "{solution" not in json.dumps(notebook), f"{source}: a solution"
        exercises = re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", rest)
        assert re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", stripped_rest) == exercises
        for solution in found:
            leaked = [f for f in distinctive_fragments(solution, rest)
                      if f in normalise(stripped_rest)]
            assert not leaked, f"{source}: the solution to {solution.label} is left: {leaked[:3]}"
