"""The Chinese edition (中文版): built from the English build's cache, in Chinese, in a browser.

``tools/build_edition.py zh`` (the README's build command runs it after the English build) writes
a translated copy of the book and builds it into the English site's ``zh/`` folder, as the site is
served. Here it runs after the English site build of this test session, which
``tests/test_book_build.py`` makes on the other xdist worker (``--dist loadfile``): the fixture
waits for that build's log, then builds the Chinese edition from its jupyter cache, so no chapter
is executed again. Run alone (``pytest tests/test_chinese_edition.py``), this file builds the
English site first. The catalogues themselves are tested in ``tests/test_translation.py``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from booktools import REPO, chapter_notebooks, toc_entries, wait_for_fresh_file
from browser import AXE_HINT, MODES, PageReport, broken_links, browse, browser_and_axe
from test_book_build import (
    BUILD_ROOT,
    Build,
    assert_built_with_no_warnings,
    run_build,
)

ZH_WORK = BUILD_ROOT / "zh"
SCREENSHOTS = REPO / "_build" / "screenshots-zh"
CJK = re.compile(r"[\u4e00-\u9fff]")
SITE_BUILD_TIMEOUT = 1500  # seconds to wait for the English site build of this session
STARTED = time.time()      # this worker collected the tests: a site log older than this is stale


@pytest.fixture(scope="session")
def english_site(request) -> Build:
    """The English site of this session (``tests/test_book_build.py``'s build, waited for), or,
    when that file is not part of the session, a build of it made here the same way."""
    html = BUILD_ROOT / "_build" / "html"
    log = BUILD_ROOT / "build.log"
    if any(item.path.name == "test_book_build.py" for item in request.session.items):
        wait_for_fresh_file(log, STARTED, SITE_BUILD_TIMEOUT, "the English site build of this session")
        return Build(0 if (html / "intro.html").exists() else 1, log.read_text(encoding="utf-8"), html)
    shutil.rmtree(BUILD_ROOT, ignore_errors=True)
    command = [str(Path(sys.executable).with_name("jupyter-book")), "build", "--all", "-W", "-n",
               "--keep-going", "--path-output", str(BUILD_ROOT), str(REPO)]
    return run_build(command, BUILD_ROOT, html)


@pytest.fixture(scope="session")
def zh_build(english_site) -> Build:
    """The Chinese edition, built by the README's command (``tools/build_edition.py zh``) from the
    English build's jupyter cache, into the English site's ``zh/`` folder (as served)."""
    if english_site.returncode != 0:
        pytest.fail("the English site did not build: see tests/test_book_build.py")
    site = english_site.html / "zh"
    command = [sys.executable, str(REPO / "tools" / "build_edition.py"), "zh",
               "--cache", str(BUILD_ROOT / "_build" / ".jupyter_cache"),
               "--work", str(ZH_WORK), "--site", str(site)]
    return run_build(command, ZH_WORK, site)


def test_chinese_edition_builds_with_no_warnings(zh_build):
    assert_built_with_no_warnings(zh_build, "the Chinese edition", ZH_WORK)


def test_chinese_edition_executes_no_notebook(zh_build):
    """Every chapter comes from the edition's cache, filled from the English build's outputs."""
    executed = [line for line in zh_build.log.splitlines() if "Executing notebook" in line]
    cached = [line for line in zh_build.log.splitlines() if "Using cached notebook" in line]
    assert not executed, "the Chinese edition executed notebooks:\n" + "\n".join(executed)
    assert len(cached) == len(chapter_notebooks())


def article_prose(html: str) -> str:
    """The text of a page's article without code cells, code and math (what a translator wrote)."""
    found = re.search(r'<article class="bd-article">(.*?)</article>', html, re.S)
    body = found.group(1) if found else html
    body = re.sub(r'<div class="cell_input.*?</div>\s*</div>', " ", body, flags=re.S)
    body = re.sub(r'<pre.*?</pre>|<code.*?</code>|<script.*?</script>'
                  r'|<span class="math[^"]*">.*?</span>|<div class="math[^"]*">.*?</div>', " ", body,
                  flags=re.S)
    return re.sub(r"<[^>]+>", " ", body)


def test_chinese_edition_has_every_page_in_chinese(english_site, zh_build):
    """Every toc page exists under zh/ and declares lang="zh-CN"; its prose has Chinese text, and
    a chapter's prose has more Chinese characters than Latin letters (the English chapter: none)."""
    for entry in toc_entries():
        page = zh_build.html / f"{entry}.html"
        assert page.exists(), f"zh/{entry}.html is missing"
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<html[^>]* lang="zh-CN"', html), f"zh/{entry}: not lang=zh-CN"
        prose = article_prose(html)
        chinese, latin = len(CJK.findall(prose)), len(re.findall(r"[A-Za-z]", prose))
        assert chinese >= 20, f"zh/{entry}: no Chinese text"
        if entry.startswith("chapters/"):
            assert chinese > latin, f"zh/{entry}: {chinese} Chinese characters, {latin} Latin letters"
            english = article_prose((english_site.html / f"{entry}.html").read_text(encoding="utf-8"))
            assert len(CJK.findall(english)) < 0.01 * len(re.findall(r"[A-Za-z]", english))


def _language_switch(html: str) -> str:
    match = re.search(r'<a class="btn btn-sm language-switch" href="([^"]+)"', html)
    return match.group(1) if match else ""


def test_every_page_links_to_the_same_page_in_the_other_language(english_site, zh_build):
    for entry in toc_entries():
        english = english_site.html / f"{entry}.html"
        chinese = zh_build.html / f"{entry}.html"
        to_chinese = _language_switch(english.read_text(encoding="utf-8"))
        to_english = _language_switch(chinese.read_text(encoding="utf-8"))
        assert to_chinese and (english.parent / to_chinese).resolve() == chinese.resolve(), entry
        assert to_english and (chinese.parent / to_english).resolve() == english.resolve(), entry


def _pasted(page: Path) -> list[str]:
    """The glued values of a built page (myst-nb renders ``{glue:text}`` as span.pasted-text)."""
    return re.findall(r'<span class="pasted-text">([^<]*)</span>', page.read_text(encoding="utf-8"))


def test_chinese_chapters_show_the_same_glued_numbers(english_site, zh_build):
    """Chapter 5's numbers (and every chapter's) appear in the Chinese chapter: the same values,
    as often. A glued number is computed once, by the English notebook."""
    for path in chapter_notebooks():
        english = _pasted(english_site.html / "chapters" / f"{path.stem}.html")
        chinese = _pasted(zh_build.html / "chapters" / f"{path.stem}.html")
        assert sorted(chinese) == sorted(english), path.name
    assert len(_pasted(zh_build.html / "chapters" / "05_worked_example.html")) >= 20


def _code_inputs(page: Path) -> list[str]:
    html = page.read_text(encoding="utf-8")
    return re.findall(r'<div class="cell_input[^"]*"[^>]*>(.*?)</div>\s*</div>', html, re.S)


def test_code_cells_are_identical_in_both_editions(english_site, zh_build):
    for path in chapter_notebooks():
        english = _code_inputs(english_site.html / "chapters" / f"{path.stem}.html")
        chinese = _code_inputs(zh_build.html / "chapters" / f"{path.stem}.html")
        assert english and chinese == english, f"{path.name}: the code cells differ"


def test_chinese_figures_have_translated_captions_and_alt_text(zh_build):
    for path in chapter_notebooks():
        html = (zh_build.html / "chapters" / f"{path.stem}.html").read_text(encoding="utf-8")
        for tag in re.findall(r"<img [^>]*src=\"[^\"]*_images/[^>]*>", html):
            alt = re.search(r'alt="([^"]*)"', tag)
            assert alt and CJK.search(alt.group(1)), f"zh {path.stem}: alt text not in Chinese: {tag[:120]}"
        for caption in re.findall(r"<figcaption>(.*?)</figcaption>", html, re.S):
            assert CJK.search(caption), f"zh {path.stem}: caption not in Chinese: {caption[:120]}"


ENGLISH_LABELS = ["Proof. ", "Show code cell source", "Click to show", "Solution to",
                  "Search this book", "Contents"]


def test_labels_of_the_theme_and_extensions_are_in_chinese(english_site, zh_build):
    """The words the theme and the extensions write (proofs' opening word, hidden cells' prompts,
    solutions' titles, the search box, the page's contents) are Chinese in the Chinese edition;
    the English pages have them in English, so the test can see them."""
    english = (english_site.html / "chapters" / "02_jacobian.html").read_text(encoding="utf-8")
    assert all(label in english for label in ENGLISH_LABELS), [l for l in ENGLISH_LABELS if l not in english]
    for path in chapter_notebooks():
        html = (zh_build.html / "chapters" / f"{path.stem}.html").read_text(encoding="utf-8")
        left = [label for label in ENGLISH_LABELS if label in html]
        assert not left, f"zh {path.stem}: English labels {left}"
    assert "证明：" in (zh_build.html / "chapters" / "02_jacobian.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the Chinese pages in a real browser

CHINESE_QUERIES = ["交叉熵", "温度", "注意力"]
# Every Chinese page is audited in light mode; in dark mode, these (every kind of element: prose,
# admonitions, proofs, exercises, tables, figures, the glossary's table). The two editions share
# every stylesheet and template, and tests/test_book_build.py audits each English page in dark
# mode; a dark audit costs about 7 s a chapter, which the test command's wall time felt.
DARK_SAMPLE = frozenset({"zh/intro", "zh/chapters/05_worked_example", "zh/chapters/09_attention",
                         "zh/glossary"})
VISIT: dict[str, object] = {}


@pytest.fixture(scope="session")
def zh_reports(english_site, zh_build) -> dict[str, PageReport]:
    """Every page of the Chinese edition, served with the English site around it as published
    (``/zh/``), loaded in headless Chromium offline and audited with axe-core in light and dark
    mode, as tests/test_book_build.py does for the English pages; then Chinese searches."""
    if zh_build.returncode != 0:
        pytest.fail("the Chinese edition did not build; see test_chinese_edition_builds_with_no_warnings")
    executable, axe = browser_and_axe()
    VISIT["axe"] = axe is not None
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    # Dark-mode screenshots of the figures are taken on the English pages: the images are the same files.
    names = [f"zh/{entry}" for entry in toc_entries()]
    seen = browse(english_site.html, names, executable, SCREENSHOTS, axe, None,
                  [("zh", query) for query in CHINESE_QUERIES], [("zh", "雅可比矩阵")],
                  light_only=frozenset(names) - DARK_SAMPLE)
    VISIT["searches"], VISIT["audited"], VISIT["blocked"] = (
        seen.searches, seen.audited_searches, seen.blocked_in_searches)
    return seen.reports


@pytest.mark.parametrize("attribute", ["untypeset_math", "raw_tex", "broken_images",
                                       "blocked_requests", "failed_responses", "console_errors"])
def test_chinese_pages_have_no_problem_in_the_browser(zh_reports, attribute):
    """Math typeset offline (no raw TeX left), every image loads, no request leaves the machine,
    no asset is missing, no JavaScript error."""
    failing = {name: getattr(r, attribute) for name, r in zh_reports.items() if getattr(r, attribute)}
    assert not failing, f"{attribute}: {failing}"


def test_chinese_pages_show_math_figures_and_the_page_buttons(zh_reports):
    for name, report in zh_reports.items():
        assert report.has_download, f"{name}: no download button"
        if name.startswith("zh/chapters/"):
            assert report.typeset_math > 0 and report.images > 0, f"{name}: no math or no figure"
            assert report.assistive_mathml == report.typeset_math, f"{name}: formulas without MathML"
            assert report.has_launch_binder and report.has_launch_colab, f"{name}: launch menu incomplete"
    shots = [SCREENSHOTS / f"{name.replace('/', '__')}.png" for name in zh_reports]
    assert all(shot.exists() and shot.stat().st_size > 10_000 for shot in shots)


def test_chinese_pages_links_resolve(english_site, zh_reports):
    """Every link to a page of the site points at a file that exists, and at an anchor on it:
    inside the Chinese edition, and the language switch's links to the English pages."""
    broken = broken_links(zh_reports, english_site.html)
    assert not broken, f"broken internal links: {broken}"


def test_chinese_pages_have_no_serious_or_critical_accessibility_violation(zh_reports):
    """axe-core finds no serious or critical violation on any Chinese page in light mode, nor in
    dark mode on the pages of DARK_SAMPLE and the Chinese search page with results."""
    if not VISIT["axe"]:
        pytest.skip(f"axe-core not installed: {AXE_HINT}")
    audited = {**zh_reports, **VISIT["audited"]}
    assert VISIT["audited"], "the Chinese search page was not audited"
    expected = {name: MODES if name in DARK_SAMPLE or name not in zh_reports else ("light",)
                for name in audited}
    not_audited = {name: r.audited_modes for name, r in audited.items()
                   if tuple(r.audited_modes) != expected[name]}
    assert not not_audited, f"pages where a colour mode did not apply: {not_audited}"
    violations = [v for report in audited.values() for v in report.violations]
    assert not violations, "\n".join(str(v) for v in violations)


def test_chinese_search_finds_the_chapters_by_chinese_words(zh_reports):
    """The Chinese site's search (Sphinx's Chinese search, words cut by jieba, the glossary's
    terms as words) finds the chapters by Chinese words: a word of a chapter's title finds it."""
    searches = VISIT["searches"]
    assert not VISIT["blocked"]
    assert any("交叉熵及其梯度" in title for title in searches["交叉熵"]), searches["交叉熵"]
    assert any("softmax 是什么" in title for title in searches["温度"]), searches["温度"]
    assert any("注意力中的 softmax" in title for title in searches["注意力"]), searches["注意力"]


def test_chromium_has_a_chinese_font(zh_reports):
    """The Chinese pages' glyphs render (not as boxes) in the screenshots: fontconfig, which
    Chromium uses, has a font covering Chinese (.ci/run installs fonts-wqy-microhei)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        if os.environ.get("CI") == "true":
            pytest.fail("fc-list (fontconfig) is missing under CI")
        pytest.skip("fc-list not found")
    fonts = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no font with Chinese glyphs: apt-get install fonts-wqy-microhei"
