"""Build the Chinese edition (中文版): the English book's cells and outputs, with translated prose.

Steps (``tools/build_edition.py zh``):

1. Write a translated copy of the book's sources to ``_build/zh/source`` (:mod:`editions.translate`):
   every page of the table of contents and the notation table it includes, the part captions, and
   the files the pages use (``references.bib``, ``_static/``, ``images/``).
2. Give the copy the English build's outputs instead of executing it again: each notebook is matched
   in the English jupyter cache (``_build/.jupyter_cache``, by its code cells, which the copy keeps
   byte for byte) and its translated copy, with those outputs, is put in the edition's own cache
   ``_build/zh/.jupyter_cache`` with the English execution time. Jupyter Book then finds every
   notebook there and runs none (the tests check the build log for it).
3. Derive ``_build/zh/source/_config.yml`` from ``_config.yml``: ``language: zh_CN`` (the theme's
   own strings in Chinese, ``<html lang="zh-CN">``, Chinese search with jieba and the glossary's
   terms as its words), the prompts of hidden cells in Chinese, the translated
   title, that cache, absolute extension folders, and the language switch pointing back to the
   English pages.
4. ``jupyter-book build --all -W -n --keep-going`` on the copy, into ``_build/zh/build``; the site is
   then copied to ``_build/html/zh/``, beside the English site.

Why translated copies and not Sphinx's own i18n (``locale_dirs``): Sphinx re-parses a translated
paragraph where the notebook's glue data is not visible, so every ``{glue:text}`` role renders empty
(see ``TOOLCHAIN.md``); a copy is parsed like the original, with the same cells and outputs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn

from . import catalogue, check, translate
from .derived import (
    ENGLISH_CACHE,
    ROOT,
    book_config,
    jupyter_book_executable,
    with_absolute_extensions,
    write_config,
)

LANGUAGE = "zh_CN"
HTML_LANGUAGE = "zh-CN"
WORK = ROOT / "_build" / "zh"
SITE = ROOT / "_build" / "html" / "zh"
ASSETS = ["references.bib", "_static", "images"]
# The language switch of each edition: the other edition's label and where its root is, seen from
# this edition's root (the Chinese site is the folder zh/ of the English one).
SWITCH_TO_ENGLISH = {"label": "English", "hreflang": "en", "root": "../"}
SEARCH_DICTIONARY = "_search_words.txt"  # jieba's user dictionary, in the translated copy


def english_outputs(notebook: nbformat.NotebookNode, cache) -> tuple[nbformat.NotebookNode, dict]:
    """``notebook`` with the outputs of its match in the English cache, and that record's data."""
    try:
        record = cache.match_cache_notebook(notebook)
    except KeyError as error:
        raise SystemExit(
            "A chapter is not in the English build's jupyter cache "
            f"({ENGLISH_CACHE}): build the English site first (`jupyter-book build --all .`)."
        ) from error
    _, merged = cache.merge_match_into_notebook(notebook)
    return merged, dict(record.data or {})


def write_pages(source: Path, english_cache, zh_cache) -> int:
    """Write the translated pages into ``source``; cache each notebook with the English outputs.

    Returns the number of messages that had a translation.
    """
    translated_messages = 0
    for page in catalogue.translated_pages():
        domain = catalogue.domain(page)
        translations = catalogue.translations(domain, LANGUAGE)
        translated_messages += len(translations)
        target = source / page.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        if page.suffix == ".md":
            text = page.read_text(encoding="utf-8")
            target.write_text(translate.translate_markdown(text, translations), encoding="utf-8")
            continue
        notebook = nbformat.read(page, as_version=4)
        with_outputs, data = english_outputs(notebook, english_cache)
        nbformat.write(translate.translate_notebook(notebook, translations), target)
        zh_cache.cache_notebook_bundle(
            CacheBundleIn(translate.translate_notebook(with_outputs, translations), str(target),
                          data=data),
            check_validity=False, overwrite=True)
    return translated_messages


def write_search_dictionary(source: Path) -> Path:
    """jieba's user dictionary for Sphinx's Chinese search: the glossary's Chinese terms.

    jieba's own dictionary cuts 交叉熵 into 交叉 + 熵, and the search page looks a query up as one
    word, so 交叉熵 would find nothing; listed here, each term is also one word of the index."""
    terms = sorted({term.chinese for term in check.glossary()
                    if re.search(r"[\u4e00-\u9fff]", term.chinese) and " " not in term.chinese})
    path = source / SEARCH_DICTIONARY
    path.write_text("".join(f"{term} 100000\n" for term in terms), encoding="utf-8")
    return path


def zh_config(config: dict[str, Any], book_translations: dict[str, str], cache: Path,
              search_dictionary: Path) -> dict[str, Any]:
    """The Chinese edition's configuration, derived from the book's parsed ``_config.yml``."""
    derived = with_absolute_extensions(config)
    derived["title"] = book_translations.get(config["title"], config["title"])
    derived["author"] = book_translations.get(config["author"], config["author"])
    derived.setdefault("execute", {})["cache"] = str(cache)
    sphinx_config = derived["sphinx"].setdefault("config", {})
    sphinx_config["language"] = LANGUAGE
    # myst-nb's prompt of a hidden code cell has no translation of its own; the book hides only
    # code cells' sources (the tag hide-input), so "Show code cell source" is 显示代码.
    sphinx_config["nb_code_prompt_show"] = "显示代码"
    sphinx_config["nb_code_prompt_hide"] = "隐藏代码"
    # sphinx-togglebutton's hint has a zh-cn catalogue that language zh_CN does not find.
    sphinx_config["togglebutton_hint"] = "点击显示"
    sphinx_config["togglebutton_hint_hide"] = "点击隐藏"
    sphinx_config["html_search_options"] = {"dict": str(search_dictionary)}
    sphinx_config["proof_prefix"] = "证明："  # _ext/edition_labels.py
    sphinx_config["search_bar_text"] = "搜索本书……"  # _ext/edition_labels.py
    sphinx_config["language_switch"] = SWITCH_TO_ENGLISH
    return derived


def write_source(work: Path, english_cache: Path) -> int:
    """Write the translated copy of the book to ``work/source`` and its cache to
    ``work/.jupyter_cache``; return the number of translated messages."""
    source, cache = work / "source", work / ".jupyter_cache"
    for folder in (source, cache):
        if folder.exists():
            shutil.rmtree(folder)
    source.mkdir(parents=True)
    book_translations = catalogue.translations(catalogue.BOOK_CATALOGUE, LANGUAGE)
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    (source / "_toc.yml").write_text(
        yaml.safe_dump(translate.translate_toc(toc, book_translations), sort_keys=False,
                       allow_unicode=True), encoding="utf-8")
    for name in ASSETS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name)
        elif path.exists():
            shutil.copy2(path, source / name)
    count = write_pages(source, get_cache(str(english_cache)), get_cache(str(cache)))
    write_config(zh_config(book_config(), book_translations, cache,
                           write_search_dictionary(source)), source,
                 "tools/build_edition.py zh")
    return count + len(book_translations)


def build(work: Path, site: Path) -> int:
    """Run jupyter-book on ``work/source`` into ``work/build``; copy the site to ``site``."""
    output = work / "build"
    if output.exists():
        shutil.rmtree(output)
    command = [jupyter_book_executable(), "build", "--all", "-W", "-n", "--keep-going",
               "--path-output", str(output), str(work / "source")]
    print("+", " ".join(command), flush=True)
    returncode = subprocess.run(command, cwd=work / "source").returncode
    if returncode != 0:
        return returncode
    if site.exists():
        shutil.rmtree(site)
    shutil.copytree(output / "_build" / "html", site)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Write the translated copy, build it, and report what was built."""
    parser = argparse.ArgumentParser(prog="build_edition.py zh", description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ENGLISH_CACHE,
                        help="the English build's jupyter cache (default: _build/.jupyter_cache)")
    parser.add_argument("--work", type=Path, default=WORK,
                        help="folder for the translated copy, its cache and its build (default: _build/zh)")
    parser.add_argument("--site", type=Path, default=SITE,
                        help="where the Chinese site goes (default: _build/html/zh)")
    arguments = parser.parse_args(argv)
    start = time.perf_counter()
    work = arguments.work.resolve()
    count = write_source(work, arguments.cache.resolve())
    print(f"Translated copy of the book: {work / 'source'} ({count} messages translated)", flush=True)
    returncode = build(work, arguments.site.resolve())
    if returncode == 0:
        print(f"Chinese edition: {arguments.site / 'index.html'} "
              f"(built in {time.perf_counter() - start:.0f} s)")
    return returncode
