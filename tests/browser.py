"""Load built pages in headless Chromium (Debian's ``chromium``, driven by Playwright) and report
what a reader would trip over: untypeset math, broken images, network requests, 404s, console
errors, and accessibility violations found by axe-core in the theme's light and dark modes.
Used by tests/test_book_build.py and tests/test_chinese_edition.py."""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update",
]
INSTALL_HINT = "install Debian's chromium (sudo apt-get install chromium) to run the browser test"
# axe-core, the accessibility engine, from the npm registry (package.json pins it; `npm ci` installs
# it). The page gets it as an inline script: nothing is fetched from the network.
AXE_JS = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_HINT = "run `npm ci` in the repository root to install axe-core (package.json) for the accessibility test"
AXE_FAILING_IMPACTS = ("serious", "critical")
MODES = ("light", "dark")


def chromium_executable() -> str | None:
    """Path of the system Chromium, or None. Nothing is ever downloaded."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    return "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) for the duration of the block."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"data", "blob", "about"} or parts.hostname in {"127.0.0.1", "localhost"}


def axe_source() -> str | None:
    """The text of axe-core's ``axe.min.js``, or None when it is not installed."""
    return AXE_JS.read_text(encoding="utf-8") if AXE_JS.exists() else None


@dataclass
class Violation:
    """One axe-core rule that fails on one page in one colour mode, with the elements it flags."""
    rule: str
    impact: str
    page: str
    mode: str
    help: str
    targets: list[str]
    summary: str

    def __str__(self) -> str:
        shown = "; ".join(self.targets[:5])
        if len(self.targets) > 5:
            shown += f"; ... ({len(self.targets)} in all)"
        return (f"{self.rule} ({self.impact}) on {self.page} [{self.mode}]: {self.help}\n"
                f"    elements: {shown}\n    {self.summary}")


@dataclass
class DarkFigure:
    """A figure of the article as dark mode shows it: the background behind the image (what its
    transparent parts show) and a screenshot of the figure."""
    src: str
    background: str  # computed CSS colour, e.g. "rgb(255, 255, 255)"
    screenshot: Path | None = None

    @property
    def background_luminance(self) -> float:
        """WCAG relative luminance of the background (0 when it is transparent)."""
        channels = [float(x) for x in re.findall(r"[\d.]+", self.background)]
        if len(channels) < 3 or (len(channels) == 4 and channels[3] < 1):
            return 0.0
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                  for c in (x / 255 for x in channels[:3])]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@dataclass
class PageReport:
    name: str
    console_errors: list[str] = field(default_factory=list)
    failed_responses: list[str] = field(default_factory=list)
    blocked_requests: list[str] = field(default_factory=list)
    untypeset_math: int = 0
    typeset_math: int = 0
    raw_tex: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    images: int = 0
    links: list[str] = field(default_factory=list)
    has_launch_binder: bool = False
    has_launch_colab: bool = False
    has_download: bool = False
    assistive_mathml: int = 0  # typeset formulas that carry MathJax's hidden MathML copy
    audited_modes: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    dark_figures: list[DarkFigure] = field(default_factory=list)


_INSPECT = """() => {
  const article = document.querySelector('article') || document.body;
  const maths = Array.from(article.querySelectorAll('.math'));
  const untypeset = maths.filter(m => !m.querySelector('mjx-container')).length;
  const clone = article.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, textarea, .highlight')
       .forEach(e => e.remove());
  const text = clone.textContent;
  const raw = ['$$', '\\\\[', '\\\\(', '\\\\frac', '\\\\begin{', '\\\\sum', '\\\\mathrm']
       .filter(p => text.includes(p));
  const images = Array.from(document.images);
  return {
    untypeset: untypeset,
    typeset: document.querySelectorAll('mjx-container').length,
    assistive: Array.from(document.querySelectorAll('mjx-container > mjx-assistive-mml > math'))
                    .filter(m => m.textContent.trim()).length,
    raw: raw,
    images: images.length,
    broken: images.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
    links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
    binder: !!document.querySelector('.dropdown-launch-buttons a[href*="mybinder.org"]'),
    colab: !!document.querySelector('.dropdown-launch-buttons a[href*="colab.research.google.com"]'),
    download: !!document.querySelector('.dropdown-download-buttons'),
  };
}"""

_WAIT_FOR_MATHJAX = """async () => {
  if (!document.querySelector('.math')) return;
  for (let i = 0; i < 200 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
    await new Promise(r => setTimeout(r, 50));
  if (window.MathJax && MathJax.startup) await MathJax.startup.promise;
}"""


_EXPAND_ALL = """() => {
  document.querySelectorAll('details:not([open])').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-button[aria-expanded="false"]').forEach(b => b.click());
}"""

# Transitions off (the theme fades colours and togglebutton fades content in: axe must not measure
# a colour halfway), then wait for the frame after a change.
_NO_TRANSITIONS = "*, *::before, *::after { transition: none !important; animation: none !important; }"

_SET_MODE = """async (mode) => {
  const root = document.documentElement;
  root.dataset.theme = mode;
  root.dataset.mode = mode;
  const probe = document.createElement('div');
  probe.style.backgroundColor = getComputedStyle(root).getPropertyValue('--pst-color-background');
  document.body.appendChild(probe);
  const wanted = getComputedStyle(probe).backgroundColor;
  probe.remove();
  for (let i = 0; i < 100; i++) {
    await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    if (getComputedStyle(document.body).backgroundColor === wanted) return wanted;
  }
  return null;
}"""

_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
    summary: (v.nodes[0] && v.nodes[0].failureSummary || '').replace(/\\s+/g, ' ').slice(0, 300),
  }));
}"""


def audit(page, name: str, mode: str) -> list[Violation]:
    """Run axe-core (already injected) on the page and return its serious and critical violations."""
    found = page.evaluate(_AXE_RUN)
    return [Violation(v["id"], v["impact"], name, mode, v["help"], v["targets"], v["summary"])
            for v in found if v["impact"] in AXE_FAILING_IMPACTS]


_FIGURES = "article figure, article img:not(figure img)"


def dark_figures(page, shots: Path | None, stem: str) -> list[DarkFigure]:
    """Every figure of the article in the current (dark) mode: its image's background and, with
    ``shots``, a screenshot of the figure as ``shots/<stem>__fig<N>.png``."""
    found = []
    for number, element in enumerate(page.query_selector_all(_FIGURES), start=1):
        image = element.evaluate("e => { const i = e.tagName === 'IMG' ? e : e.querySelector('img');"
                                 " return i && {src: i.currentSrc || i.src,"
                                 " background: getComputedStyle(i).backgroundColor}; }")
        if image is None:
            continue
        figure = DarkFigure(image["src"], image["background"])
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            figure.screenshot = shots / f"{stem}__fig{number}.png"
            element.screenshot(path=str(figure.screenshot))
        found.append(figure)
    return found


def audit_modes(page, name: str, axe: str, dark_shots: Path | None = None,
                modes_to_audit: tuple[str, ...] = MODES
                ) -> tuple[list[str], list[Violation], list[DarkFigure]]:
    """Open every collapsed solution, hidden cell and dropdown, inject axe-core and audit the page in
    light mode, then in dark mode, where its figures are also looked at (``dark_figures``). Returns
    the modes that were really applied (the page background took the theme's colour), the
    violations and the figures."""
    page.add_style_tag(content=_NO_TRANSITIONS)
    page.evaluate(_EXPAND_ALL)
    page.add_script_tag(content=axe)
    modes, violations, figures = [], [], []
    for mode in modes_to_audit:
        if page.evaluate(_SET_MODE, mode) is None:
            continue
        modes.append(mode)
        violations += audit(page, name, mode)
        if mode == "dark":
            figures = dark_figures(page, dark_shots, name.replace("/", "__"))
    return modes, violations, figures


def visit(context, base_url: str, name: str, screenshot: Path, axe: str | None = None,
          dark_shots: Path | None = None, modes: tuple[str, ...] = MODES) -> PageReport:
    """Open ``base_url/name.html`` in a new page of ``context``, wait for MathJax, scroll through
    the page (so every image loads), inspect it and save a full-page screenshot. With ``axe`` (the
    source of axe.min.js), then audit it in light and dark mode (``audit_modes``; screenshots of
    its figures in dark mode go to ``dark_shots``)."""
    report = PageReport(name)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and report.console_errors.append(m.text))
    page.on("pageerror", lambda e: report.console_errors.append(f"uncaught: {e}"))
    page.on("response", lambda r: r.status >= 400 and report.failed_responses.append(f"{r.status} {r.url}"))
    page.on("requestfailed", lambda r: is_local(r.url) and report.failed_responses.append(f"failed {r.url}"))
    page.goto(f"{base_url}/{name}.html", wait_until="networkidle")
    page.evaluate(_WAIT_FOR_MATHJAX)
    page.evaluate("async () => { for (let y = 0; y < document.body.scrollHeight; y += 600) {"
                  " window.scrollTo(0, y); await new Promise(r => setTimeout(r, 20)); } window.scrollTo(0, 0); }")
    page.wait_for_load_state("networkidle")
    found = page.evaluate(_INSPECT)
    report.untypeset_math, report.typeset_math = found["untypeset"], found["typeset"]
    report.assistive_mathml = found["assistive"]
    report.raw_tex, report.images, report.broken_images = found["raw"], found["images"], found["broken"]
    report.links = found["links"]
    report.has_launch_binder, report.has_launch_colab = found["binder"], found["colab"]
    report.has_download = found["download"]
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    if axe is not None:
        audited, violations, figures = audit_modes(page, name, axe, dark_shots, modes)
        report.audited_modes, report.violations, report.dark_figures = audited, violations, figures
    page.close()
    return report


def _search_page(context, base_url: str, query: str):
    """A new page showing Sphinx's client-side search results for ``query``."""
    page = context.new_page()
    page.goto(f"{base_url}/search.html?q={query}", wait_until="networkidle")
    page.wait_for_function(
        "() => document.querySelector('#search-results') &&"
        " /found|did not match|搜索完成|没有匹配/i.test(document.querySelector('#search-results').textContent)",
        timeout=20000,
    )
    return page


def search_hits(context, base_url: str, query: str) -> list[str]:
    """Titles of the pages Sphinx's client-side search lists for ``query``."""
    page = _search_page(context, base_url, query)
    hits = page.evaluate("Array.from(document.querySelectorAll('#search-results li a')).map(a => a.textContent)")
    page.close()
    return hits


def audit_search(context, base_url: str, query: str, axe: str) -> PageReport:
    """The search results for ``query`` (links and snippets with the searched words highlighted),
    audited with axe-core in light and dark mode."""
    page = _search_page(context, base_url, query)
    report = PageReport(f"search.html?q={query}")
    report.audited_modes, report.violations, _ = audit_modes(page, report.name, axe)
    page.close()
    return report


@dataclass
class SiteVisit:
    """What ``browse`` saw: a report per page, the search hits per query, the audited search
    pages, and the requests that tried to leave the machine during the searches."""
    reports: dict[str, PageReport]
    searches: dict[str, list[str]]
    audited_searches: dict[str, PageReport]
    blocked_in_searches: list[str]


def browse(html: Path, names: list[str], executable: str, screenshots: Path, axe: str | None,
           dark_shots: Path | None, searches: list[tuple[str, str]],
           audited_searches: list[tuple[str, str]],
           light_only: frozenset[str] = frozenset()) -> SiteVisit:
    """Serve ``html`` on 127.0.0.1 and open every page ``names`` (paths without ``.html``) in
    headless Chromium with the network cut off: any request that does not go to 127.0.0.1 is
    recorded and aborted. Each page is inspected and screenshot (``visit``) and, with ``axe``,
    audited in light and dark mode (the pages ``light_only`` in light mode only). Then run each search ``(folder, query)`` (``folder`` is the
    site's own root, "" or e.g. "zh", whose search page is used) and audit the search pages
    ``audited_searches`` the same way."""
    from playwright.sync_api import sync_playwright

    reports: dict[str, PageReport] = {}
    blocked: list[str] = []
    found: dict[str, list[str]] = {}
    audited: dict[str, PageReport] = {}

    def offline(route):
        if is_local(route.request.url):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with serve(html) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", offline)
        for name in names:
            blocked.clear()
            shot = screenshots / f"{name.replace('/', '__')}.png"
            modes = ("light",) if name in light_only else MODES
            report = visit(context, base_url, name, shot, axe, dark_shots, modes)
            report.blocked_requests = list(blocked)
            reports[name] = report
        blocked.clear()
        for folder, query in searches:
            found[query] = search_hits(context, "/".join(filter(None, [base_url, folder])), query)
        if axe is not None:
            for folder, query in audited_searches:
                searched = audit_search(context, "/".join(filter(None, [base_url, folder])), query, axe)
                audited[f"{folder}/{searched.name}" if folder else searched.name] = searched
        browser.close()
    return SiteVisit(reports, found, audited, list(blocked))


def browser_and_axe() -> tuple[str, str | None]:
    """Chromium's executable and axe-core's source for a browser test. Without Chromium the test
    is skipped, and fails under CI; axe-core may be missing (None) except under CI."""
    import pytest

    executable = chromium_executable()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is missing under CI: {INSTALL_HINT}")
        pytest.skip(f"Chromium not found: {INSTALL_HINT}")
    axe = axe_source()
    if axe is None and os.environ.get("CI") == "true":
        pytest.fail(f"axe-core is missing under CI: {AXE_HINT}")
    return executable, axe


def broken_links(reports: dict[str, PageReport], html: Path, skip: str | None = None) -> list[str]:
    """Links of the visited pages to pages of the site (served from ``html``) whose file does not
    exist, or whose anchor is not on it; paths starting with ``skip`` are not looked at."""
    broken = []
    for name, report in reports.items():
        for link in report.links:
            parts = urlsplit(link)
            if not is_local(link) or parts.scheme not in {"http", "https"}:
                continue
            if skip and parts.path.startswith(skip):
                continue
            target = html / parts.path.lstrip("/")
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                broken.append(f"{name} -> {parts.path}")
            elif parts.fragment and target.suffix == ".html":
                if f'id="{parts.fragment}"' not in target.read_text(encoding="utf-8"):
                    broken.append(f"{name} -> {parts.path}#{parts.fragment}")
    return sorted(set(broken))
