"""Sphinx extension: every page links to the same page in the other edition's language.

The English site is served at ``/`` and the Chinese edition (``tools/build_edition.py zh``) at
``/zh/``. The config value ``language_switch`` names the other edition: its ``label`` (shown), its
``hreflang`` and its ``root``, the other site's root seen from this site's root (``zh/`` from the
English site, ``../`` from the Chinese one). The link goes into the article header, before the
theme's buttons (template ``language-switch.html``, style ``language-switch.css``), and a ``<link rel="alternate" hreflang>`` into
the page's head. Both sites have the same page names, so the link of page ``chapters/02_jacobian``
is ``<root>chapters/02_jacobian.html``, made relative to the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config

TEMPLATE = "language-switch.html"
TEMPLATES = str(Path(__file__).with_name("language_switch_templates"))
STATIC = str(Path(__file__).with_name("language_switch_templates") / "static")
STYLESHEET = "language-switch.css"


def other_language_url(pagename: str, root: str) -> str:
    """The address of the same page in the other edition, relative to page ``pagename``."""
    up = "../" * pagename.count("/")
    return f"{up}{root}{pagename}.html"


def add_template(app: Sphinx, config: Config) -> None:
    if not config.language_switch:
        return
    if TEMPLATES not in config.templates_path:
        config.templates_path.append(TEMPLATES)
    if STATIC not in config.html_static_path:
        config.html_static_path.append(STATIC)
    app.add_css_file(STYLESHEET)
    options = config.html_theme_options = dict(config.html_theme_options or {})
    end = options.get("article_header_end") or ["article-header-buttons.html"]
    if isinstance(end, str):
        end = [item.strip() for item in end.split(",") if item.strip()]
    if TEMPLATE not in end:
        options["article_header_end"] = [TEMPLATE, *end]


def add_link(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
             doctree: Any) -> None:
    switch = app.config.language_switch
    if not switch:
        return
    url = other_language_url(pagename, switch["root"])
    context["language_switch"] = {**switch, "url": url}
    context["metatags"] = (context.get("metatags", "")
                           + f'\n<link rel="alternate" hreflang="{switch["hreflang"]}" href="{url}">')


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_config_value("language_switch", {}, "html", types=[dict])
    app.connect("config-inited", add_template, priority=800)
    app.connect("html-page-context", add_link)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
