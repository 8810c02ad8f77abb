"""The Chinese edition's catalogues: complete, current, faithful to the English markup.

The edition (``tools/build_edition.py zh``) replaces each message of a page (a heading, a paragraph,
a list item, a table row, a figure's caption or alt text) by its translation in
``locales/zh_CN/LC_MESSAGES/<page>.po``. These tests need no build: they read the English sources
and the catalogues. A change to the English prose fails here until its translation is updated
(``contributing.md``, "Updating the Chinese translation"). The built Chinese site is tested in
``test_book_build.py``.
"""

from __future__ import annotations

import json
import sys

import pytest
from booktools import REPO, chapter_notebooks

sys.path.insert(0, str(REPO / "tools"))

from editions import catalogue, check, segments, translate  # noqa: E402

LANGUAGE = "zh_CN"
CATALOGUES = sorted(catalogue.all_messages())
UPDATE_HINT = ("update the translation: run the three commands of contributing.md "
               "(tools/build_edition.py pot, sphinx-intl update, tools/build_edition.py check)")


def sources() -> list[tuple[str, str]]:
    """(name, markdown) of every markdown cell of every chapter and every .md page."""
    found = []
    for path in chapter_notebooks():
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] == "markdown":
                found.append((f"{path.name}#{cell.get('id')}", "".join(cell["source"])))
    for path in catalogue.translated_pages():
        if path.suffix == ".md":
            found.append((path.name, path.read_text(encoding="utf-8")))
    return found


# ---------------------------------------------------------------- splitting prose into messages

def test_splitting_and_joining_gives_back_every_page_exactly():
    for name, text in sources():
        assert segments.join(segments.split(text)) == text, name


@pytest.mark.parametrize("text, expected", [
    ("# Title\n\nA paragraph\non two lines.\n", ["Title", "A paragraph\non two lines."]),
    ("- one item\n  continued\n- two\n", ["one item\ncontinued", "two"]),
    ("$$\nx = 1\n$$ (eq-x)\n\n(label)=\n## Head\n", ["Head"]),
    (":::{prf:theorem} Shift invariance\n:label: thm\n\nText $a$.\n:::\n", ["Shift invariance", "Text $a$."]),
    ("```{solution-start} ex-1\n:class: dropdown\n```\n", []),
    ("```python\nprint('no prose here')\n```\n", []),
    ("| Name | Value |\n|---|---|\n| $x$ | a word |\n", ["| Name | Value |", "| $x$ | a word |"]),
    ("$x = 1$, {glue:text}`key:.2f`.", []),
    ("the factor is\n0. From there on", ["the factor is\n0. From there on"]),  # not a list (CommonMark)
    ("3. item\n\n   more text\n4. next item\n", ["item", "more text", "next item"]),
])
def test_messages_are_the_prose_units(text, expected):
    assert segments.messages(text) == expected


def test_a_translation_replaces_only_the_prose():
    text = "## Head\n\n:::{note}\nSee $x$.\n:::\n\n- item\n  two\n"
    translated = translate.translate_markdown(
        text, {"Head": "标题", "See $x$.": "见 $x$。", "item\ntwo": "条目\n二"})
    assert translated == "## 标题\n\n:::{note}\n见 $x$。\n:::\n\n- 条目\n  二\n"


# ---------------------------------------------------------------- the catalogues

@pytest.mark.parametrize("name", CATALOGUES)
def test_catalogue_has_exactly_the_messages_of_the_english_page(name):
    """The .po file holds the page's current English messages, no more and no fewer: an edited
    English paragraph is a message the catalogue lacks (and its old text one it has too many)."""
    path = catalogue.po_path(name, LANGUAGE)
    assert path.exists(), f"no catalogue {path}: {UPDATE_HINT}"
    english = {message.text for message in catalogue.all_messages()[name]}
    present = {message.id for message in catalogue.read_catalogue(path) if message.id}
    missing, stale = sorted(english - present), sorted(present - english)
    assert not missing and not stale, (
        f"{path.relative_to(REPO)} is out of date with the English page; {UPDATE_HINT}.\n"
        f"English messages it lacks: {[m[:70] for m in missing][:8]}\n"
        f"messages no longer in the English page: {[m[:70] for m in stale][:8]}")


@pytest.mark.parametrize("name", CATALOGUES)
def test_every_message_is_translated_faithfully(name):
    """Translated, not fuzzy, no obsolete entry; math, inline code, roles, link targets and table
    cells unchanged; the glossary's Chinese term used for each English term (``check.py``)."""
    path = catalogue.po_path(name, LANGUAGE)
    problems = check.catalogue_problems(path)
    assert not problems, f"{len(problems)} problem(s) in {path.relative_to(REPO)}:\n" + "\n".join(problems[:25])


CHAPTER_CATALOGUES = [name for name in CATALOGUES if name.startswith("chapters/")]


@pytest.mark.parametrize("name", CHAPTER_CATALOGUES)
def test_each_chapter_gives_the_english_of_a_term_where_it_first_uses_it(name):
    """A chapter's first paragraph or list item that uses a glossary term gives the English in
    parentheses beside the Chinese: 雅可比矩阵（Jacobian） (issue 14: "keep English in parentheses
    on first use"). Headings, titles, captions, alt text and table rows are not counted."""
    translations = catalogue.translations(name, LANGUAGE)
    prose = [(m.text, translations.get(m.text, "")) for m in catalogue.all_messages()[name]
             if m.kind == "prose"]
    problems = check.first_use_problems(prose, check.glossary())
    assert not problems, "\n".join(problems)


def test_the_first_use_check_can_fail():
    terms = check.glossary()
    messages = [("The Jacobian of softmax.", "softmax 的雅可比矩阵。"),
                ("The Jacobian again.", "又是雅可比矩阵（Jacobian）。")]
    assert check.first_use_problems(messages, terms)
    assert not check.first_use_problems(messages[1:], terms)


def test_the_glossary_fixes_the_terms_the_book_uses():
    terms = check.glossary()
    assert len(terms) >= 40
    assert len({term.chinese for term in terms}) == len(terms), "two English terms share a Chinese one"
    prose = " ".join(check.english_prose(text) for _, text in sources())
    unused = [term.english for term in terms if not term.pattern.search(prose)]
    assert not unused, f"glossary terms the English book never uses: {unused}"


def test_the_glossary_check_can_fail():
    terms = check.glossary()
    problems = check.glossary_problems("The Jacobian of the cross-entropy.", "交叉熵的导数矩阵。", terms)
    assert problems == ["glossary: 'Jacobian' should be '雅可比矩阵'"]
    longest = check.glossary_problems("a vector-Jacobian product", "向量–雅可比积", terms)
    assert longest == []


def test_the_markup_check_can_fail():
    assert check.markup_problems("Put $x$ in {eq}`eq-a`.", "把 $y$ 代入 {eq}`eq-b`。")
    assert check.markup_problems("See {ref}`Exercise 1 <ex-1>`.", "见 {ref}`练习 1 <ex-1>`。") == []
    assert check.markup_problems("Call `sn.softmax`.", "调用 softmax。")


# ---------------------------------------------------------------- the translated notebooks

@pytest.mark.parametrize("path", chapter_notebooks(), ids=lambda p: p.stem)
def test_translated_notebook_keeps_every_code_cell(path):
    """Code cells (source, id, tags) are the English ones; only a figure's caption and alt text
    in the metadata are translated. The markdown cells are translated."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    translations = catalogue.translations(catalogue.domain(path), LANGUAGE)
    translated = translate.translate_notebook(notebook, translations)
    assert [c["id"] for c in translated["cells"]] == [c["id"] for c in notebook["cells"]]
    for english, chinese in zip(notebook["cells"], translated["cells"], strict=True):
        if english["cell_type"] == "code":
            assert chinese["source"] == english["source"]
            assert chinese["metadata"].get("tags") == english["metadata"].get("tags")
            assert chinese.get("outputs") == english.get("outputs")
        else:
            assert chinese["source"] != "".join(english["source"]) or not segments.messages(
                "".join(english["source"])), f"{path.name}#{english['id']}: not translated"
