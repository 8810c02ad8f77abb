"""Sphinx extension: drop repeated <script> entries from every page.

With Jupyter Book 1.0.4 (Sphinx 7.4, sphinx-thebe 0.3.1) the inline script that declares
``const THEBE_JS_URL`` is added to every page twice, and the browser reports "Identifier
'THEBE_JS_URL' has already been declared" on every page. This keeps the first of any identical
scripts (same file and attributes, or same inline body). tests/test_book_build.py checks that no
page logs a JavaScript error.
"""

from __future__ import annotations

from typing import Any


def _script_key(script: Any) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""  # inline scripts carry None or ""
    return (str(filename), tuple(sorted(attributes.items())))


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
