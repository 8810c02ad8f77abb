"""The book as PDF, and the student edition as PDF, built and read back.

``jupyter-book build --builder pdflatex`` typesets the book with XeLaTeX (TeX Live packages: see
the README). The PDFs are built from the notebook outputs that the website build of the same test
session cached (``tests/test_book_build.py`` builds the site into ``_build/test-build``): the
notebooks are not executed again. Each PDF build gets its own output folder (a Sphinx folder
serves one builder), whose ``.jupyter_cache`` is a link to the site's cache; the student PDF is
given that cache with ``--cache``. The site build runs on another xdist worker (``--dist
loadfile`` keeps each test file on one worker), so the fixture waits for its log; run alone
(``pytest tests/test_pdf.py``), this file executes the notebooks into a cache of its own.

The PDFs are read with poppler: ``pdftotext`` for the text, ``pdftohtml -xml`` for the text with
its fonts (code is set in a monospaced font, and only code may show TeX source), ``pdfimages``
for the figures.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import unicodedata
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from booktools import (REPO, chapter_notebooks, config, load_notebook, source_of, toc_entries,
                       wait_for_fresh_file)
from test_book_build import BUILD_ROOT, SPHINX_WARNING, chapter_solutions, distinctive_fragments

PDF_ROOT = REPO / "_build" / "test-pdf"
STUDENT_PDF_ROOT = REPO / "_build" / "test-student-pdf"
PDF_NAME = "softmax-notes.pdf"
STUDENT_PDF_NAME = "softmax-notes-student.pdf"
TEX_HINT = ("install the TeX Live packages named in the README, e.g. apt-get install -y "
            "--no-install-recommends texlive-xetex texlive-latex-extra texlive-fonts-recommended "
            "latexmk fonts-freefont-otf poppler-utils make")
SITE_BUILD_TIMEOUT = 1500  # seconds to wait for the website build of this session
STARTED = time.time()      # this worker collected the tests: a site log older than this is stale


@dataclass(frozen=True)
class PdfBuild:
    returncode: int
    log: str
    pdf: Path
    seconds: float


def _require_tools() -> None:
    missing = [tool for tool in ("xelatex", "latexmk", "make", "pdftotext", "pdfimages",
                                 "pdftohtml") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} missing under CI: {TEX_HINT}")
        pytest.skip(f"{missing} not found: {TEX_HINT}")


def _site_is_built_in_this_session(session: pytest.Session) -> bool:
    return any(item.path.name == "test_book_build.py" for item in session.items)


def _wait_for_the_site_cache() -> Path:
    """The website's jupyter cache, once ``tests/test_book_build.py`` has built the site."""
    wait_for_fresh_file(BUILD_ROOT / "build.log", STARTED, SITE_BUILD_TIMEOUT,
                        "the website build of this session")
    return BUILD_ROOT / "_build" / ".jupyter_cache"


@pytest.fixture(scope="session")
def site_cache(request) -> Path | None:
    """The website build's jupyter cache, or None when the site is not built in this session."""
    _require_tools()
    if not _site_is_built_in_this_session(request.session):
        return None
    return _wait_for_the_site_cache()


def _run(command: list[str], folder: Path, pdf: Path) -> PdfBuild:
    started = time.time()
    result = subprocess.run(command, capture_output=True, text=True, timeout=1500, cwd=REPO)
    seconds = time.time() - started
    log = result.stdout + result.stderr
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "build.log").write_text(log + f"\n[test_pdf] {seconds:.1f} s\n", encoding="utf-8")
    return PdfBuild(result.returncode, log, pdf, seconds)


@pytest.fixture(scope="session")
def pdf_build(site_cache) -> PdfBuild:
    """``jupyter-book build --all -W -n --keep-going --builder pdflatex``, the README's PDF
    command with warnings as errors, into its own folder, reading the site's cache."""
    shutil.rmtree(PDF_ROOT, ignore_errors=True)
    (PDF_ROOT / "_build").mkdir(parents=True)
    if site_cache is not None:
        site_cache.mkdir(parents=True, exist_ok=True)
        (PDF_ROOT / "_build" / ".jupyter_cache").symlink_to(site_cache, target_is_directory=True)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    command = [str(jupyter_book), "build", "--all", "-W", "-n", "--keep-going",
               "--builder", "pdflatex", "--path-output", str(PDF_ROOT), str(REPO)]
    return _run(command, PDF_ROOT, PDF_ROOT / "_build" / "latex" / PDF_NAME)


@pytest.fixture(scope="session")
def student_pdf_build(pdf_build, site_cache) -> PdfBuild:
    """The student PDF, by the README's command (``build_edition.py student --pdf``), after the
    book's PDF (whose cache it then reads when the site was not built in this session)."""
    shutil.rmtree(STUDENT_PDF_ROOT, ignore_errors=True)
    cache = site_cache if site_cache is not None else PDF_ROOT / "_build" / ".jupyter_cache"
    command = [sys.executable, str(REPO / "tools" / "build_edition.py"), "student", "--pdf",
               "--output", str(STUDENT_PDF_ROOT), "--cache", str(cache)]
    return _run(command, STUDENT_PDF_ROOT,
                STUDENT_PDF_ROOT / "_build" / "latex" / STUDENT_PDF_NAME)


# ---------------------------------------------------------------- reading a PDF


def plain(text: str) -> str:
    """Text comparable across HTML, sources and PDF: compatibility forms (math italic letters,
    ligatures) folded, typographic quotes and dashes made ASCII, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "−": "-",
                                         "–": "-", "\u00a0": " "}))
    return " ".join(text.split())


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def first_page_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


def page_count(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, flags=re.M)
    return int(match.group(1)) if match else 0


def prose_lines(pdf: Path) -> list[str]:
    """The lines of the PDF set in a proportional font: everything but code and literals."""
    xml = subprocess.run(["pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf)],
                         capture_output=True, text=True, check=True).stdout
    root = ET.fromstring(xml)
    mono = {spec.get("id") for spec in root.iter("fontspec")
            if re.search(r"mono|courier|typewriter", spec.get("family", ""), flags=re.I)}
    return ["".join(text.itertext()) for text in root.iter("text")
            if text.get("font") not in mono]


def image_count(pdf: Path) -> int:
    """Images drawn in the PDF (``pdfimages -list`` rows of type image; soft masks excluded)."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    return sum(1 for row in listing if row.split()[2:3] == ["image"])


def chapter_titles() -> list[str]:
    """The H1 of every toc entry except the front page (the PDF's title page stands for it)."""
    titles = []
    for entry in toc_entries()[1:]:
        path = source_of(entry)
        if path.suffix == ".ipynb":
            text = "".join(load_notebook(path)["cells"][0]["source"])
        else:
            text = path.read_text(encoding="utf-8")
        heading = re.search(r"^# (.+)$", text, flags=re.M)
        assert heading, f"{path.name} has no H1"
        titles.append(re.sub(r"[`*$]", "", heading.group(1)).strip())
    return titles


def book_figures() -> int:
    """Figures of the book: notebook cells with a captioned figure, and images in markdown."""
    count = 0
    for entry in toc_entries():
        path = source_of(entry)
        if path.suffix == ".ipynb":
            for cell in load_notebook(path)["cells"]:
                if cell["cell_type"] == "code" and cell.get("metadata", {}).get("mystnb", {}).get(
                        "figure"):
                    count += 1
                elif cell["cell_type"] == "markdown":
                    count += len(re.findall(r"!\[[^\]]*\]\(|\{figure\}|\{image\}",
                                            "".join(cell["source"])))
        else:
            count += len(re.findall(r"!\[[^\]]*\]\(|\{figure\}|\{image\}",
                                    path.read_text(encoding="utf-8")))
    return count


def exercise_labels(notebook: dict) -> list[str]:
    text = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "markdown")
    return re.findall(r"\{exercise\}[^\n]*\n:label: (\S+)", text)


# Raw TeX or MyST that reached the page instead of being typeset or resolved.
RAW = re.compile(r"\\(?:frac|begin|end|left|right|mathbf|mathbb|mathrm|operatorname|sum|partial)"
                 r"\b|\$\$|\\\(|\\\[|\{glue(?::[a-z]+)?\}|\{(?:eq|numref|ref|doc|cite[a-z:]*)\}`"
                 r"|No key|<IPython\.core\.display")


@pytest.fixture(scope="session")
def text(pdf_build) -> str:
    if not pdf_build.pdf.exists():
        pytest.fail(f"no PDF; see {PDF_ROOT / 'build.log'}")
    return pdf_text(pdf_build.pdf)


@pytest.fixture(scope="session")
def student_text(student_pdf_build) -> str:
    if not student_pdf_build.pdf.exists():
        pytest.fail(f"no student PDF; see {STUDENT_PDF_ROOT / 'build.log'}")
    return pdf_text(student_pdf_build.pdf)


# ---------------------------------------------------------------- the book's PDF


def _warnings(log: str) -> list[str]:
    return [line for line in log.splitlines()
            if SPHINX_WARNING.search(line) and "[IPKernelApp]" not in line]


def test_pdf_builds_with_no_warnings(pdf_build):
    warnings = _warnings(pdf_build.log)
    assert pdf_build.returncode == 0 and not warnings and pdf_build.pdf.exists(), (
        f"PDF build failed (exit {pdf_build.returncode}); see {PDF_ROOT / 'build.log'} and the "
        f"LaTeX log in {pdf_build.pdf.parent}:\n"
        + "\n".join(warnings[:40] or pdf_build.log.splitlines()[-40:]))
    print(f"\nPDF: {page_count(pdf_build.pdf)} pages, built in {pdf_build.seconds:.0f} s")


def test_pdf_reuses_the_site_build_cache(pdf_build, site_cache):
    """No notebook runs again for the PDF (unless it was edited since the site build)."""
    if site_cache is None:
        pytest.skip("the website is not built in this session: the PDF build executed the notebooks")
    executed = [line for line in pdf_build.log.splitlines() if "Executing notebook" in line]
    assert "Using cached notebook" in pdf_build.log and not executed, (
        "the PDF build executed notebooks instead of reading the site build's cache:\n"
        + "\n".join(executed))


def test_title_page_has_the_title_and_the_licences(pdf_build, text):
    page = plain(first_page_text(pdf_build.pdf))
    assert config()["title"] in page and config()["author"] in page, page
    assert "CC BY 4.0" in page and "MIT" in page, page


def test_every_chapter_is_in_the_pdf(text):
    body = plain(text).casefold()
    missing = [title for title in chapter_titles() if plain(title).casefold() not in body]
    assert not missing, f"chapter titles not in the PDF: {missing}"


def test_no_unresolved_reference(pdf_build, text):
    assert "??" not in text, [plain(line) for line in text.splitlines() if "??" in line][:10]
    latex_log = pdf_build.pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    undefined = re.findall(r"LaTeX Warning: (?:Reference|Citation|Hyper reference) .*undefined",
                           latex_log)
    assert not undefined, undefined[:10]


OVERFULL_LIMIT = 20.0  # pt: a line this much wider than the text block visibly runs off the page


def test_nothing_runs_off_the_page_and_no_glyph_is_missing(pdf_build):
    """In the LaTeX log: no line (of text, code or a table) wider than the text block by more
    than OVERFULL_LIMIT, and no character that the fonts lack (it would be dropped silently)."""
    latex_log = pdf_build.pdf.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    overfull = [f"{float(width):.0f}pt at {where}" for width, where in re.findall(
        r"Overfull \\hbox \(([\d.]+)pt too wide\) (?:in paragraph|in alignment|detected) at (lines? [\d-]+)",
        latex_log) if float(width) > OVERFULL_LIMIT]
    assert not overfull, (f"lines wider than the text block (see {pdf_build.pdf.with_suffix('.tex')}): "
                          f"{overfull[:10]}")
    missing = sorted(set(re.findall(r"Missing character: There is no (\S+)", latex_log)))
    assert not missing, f"characters no font of the PDF has: {missing}"


def test_no_raw_tex_or_unresolved_glue_in_the_prose(pdf_build, text):
    """Formulas are typeset by LaTeX (no MathJax, no TeX source left) and every glue role is
    resolved. Code and literals (monospaced) may show TeX: the notebooks build formulas in code."""
    found = [plain(line) for line in prose_lines(pdf_build.pdf) if RAW.search(line)]
    assert not found, f"raw TeX, MyST or unresolved glue in the text of the PDF: {found[:10]}"
    assert "No key" not in text


def test_figures_are_in_the_pdf(pdf_build, text):
    figures = book_figures()
    assert figures > 0
    assert image_count(pdf_build.pdf) >= figures, (image_count(pdf_build.pdf), figures)
    captions = re.findall(r"^Fig\. \d+\.\d+:", text, flags=re.M)
    assert len(captions) >= figures, f"{len(captions)} figure captions for {figures} figures"


def test_every_exercise_and_solution_is_in_the_pdf(text):
    body = plain(text)
    for path in chapter_notebooks():
        labels = exercise_labels(load_notebook(path))
        number = chapter_number(path)
        for k in range(1, len(labels) + 1):
            assert f"Exercise {number}.{k}" in body, f"{path.name}: Exercise {number}.{k}"
            assert f"Solution to Exercise {number}.{k}" in body, (
                f"{path.name}: Solution to Exercise {number}.{k}")


def chapter_number(path: Path) -> int:
    """The chapter's number in the book (chapters are numbered in toc order)."""
    chapters = [entry for entry in toc_entries() if entry.startswith("chapters/")]
    return chapters.index(f"chapters/{path.stem}") + 1


# ---------------------------------------------------------------- the student PDF


def test_student_pdf_builds_with_no_warnings(student_pdf_build):
    warnings = _warnings(student_pdf_build.log)
    assert (student_pdf_build.returncode == 0 and not warnings
            and student_pdf_build.pdf.exists()), (
        f"student PDF failed (exit {student_pdf_build.returncode}); see "
        f"{STUDENT_PDF_ROOT / 'build.log'}:\n"
        + "\n".join(warnings[:40] or student_pdf_build.log.splitlines()[-40:]))
    print(f"\nstudent PDF: {page_count(student_pdf_build.pdf)} pages, built in "
          f"{student_pdf_build.seconds:.0f} s")


def test_student_pdf_reuses_the_cache(student_pdf_build):
    executed = [line for line in student_pdf_build.log.splitlines() if "Executing notebook" in line]
    assert not executed, "the student PDF executed notebooks again:\n" + "\n".join(executed)


def test_student_pdf_has_its_title_and_every_chapter(student_pdf_build, student_text):
    page = plain(first_page_text(student_pdf_build.pdf))
    assert "(student edition)" in page and "CC BY 4.0" in page, page
    body = plain(student_text).casefold()
    missing = [title for title in chapter_titles() if plain(title).casefold() not in body]
    assert not missing, f"chapter titles not in the student PDF: {missing}"
    assert "??" not in student_text


def test_student_pdf_has_the_exercises_and_no_solution(text, student_text):
    """Every exercise is in the student PDF; no text of a solution is. A solution's text is a
    piece of it found in the full PDF and nowhere else in the book's notebooks (one PDF holds
    every chapter: a code line of a solution may also be another chapter's code)."""
    full, student = plain(text), plain(student_text)
    assert "Solution to" not in student
    sources = {path: plain("\n".join("".join(cell["source"]) for cell in load_notebook(path)["cells"]))
               for path in chapter_notebooks()}
    unseen = []
    for path, found, rest in chapter_solutions():
        number = chapter_number(path)
        for k in range(1, len(exercise_labels(load_notebook(path))) + 1):
            assert f"Exercise {number}.{k}" in student, f"{path.name}: Exercise {number}.{k}"
        elsewhere = " ".join(text for other, text in sources.items() if other != path)
        for solution in found:
            fragments = [plain(f) for f in distinctive_fragments(solution, rest)]
            fragments = [f for f in fragments if f not in elsewhere]
            shown = [f for f in fragments if f in full]
            if not shown:
                unseen.append(f"{path.name}: {solution.label}")
            leaked = [f for f in shown if f in student]
            assert not leaked, f"{path.name}: the solution to {solution.label} shows: {leaked[:3]}"
    # the check above sees a solution only through text found in the full PDF
    assert not unseen, f"no text of these solutions found in the full PDF: {unseen}"
