"""Check a translation catalogue: complete, not fuzzy, markup intact, glossary terms used.

A translation replaces prose and nothing else. For each message this module compares the English
text with its translation and reports what a translator must fix:

- a message without a translation, a fuzzy one, an obsolete one left in the file;
- math (``$...$``, ``$$...$$``), inline code, and the targets of roles and links that differ (a
  role's shown text may be translated: ``{ref}`文字 <label>``` keeps only ``label``);
- a table row whose number of cells changed, a heading that became two lines;
- spacing around links: none between Chinese text and a link showing Chinese (``见{doc}`第 2 章 <...>```),
  one after a link that ends in a number (``{numref}`fig-x` 显示``);
- an English term of the glossary (``glossary.md``) whose Chinese term is missing from the
  translation (tests/test_translation.py runs this on every catalogue).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from . import catalogue, segments

ROOT = catalogue.ROOT
GLOSSARY_PAGE = ROOT / "glossary.md"

MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+\$", re.S)
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<content>[^`]*)`")
CODE = re.compile(r"(?<![`}])``?[^`]+``?")
SUBSTITUTION = re.compile(r"\{\{[^}]*\}\}")
LINK_TARGET = re.compile(r"\]\((?P<target>[^)\s]+)\)")
SHOWN_TEXT_ROLES = {"ref", "doc", "numref", "eq", "prf:ref", "download", "term"}
# What a translation keeps as it is: what has no prose (segments.NON_PROSE: code, math, roles,
# link targets, urls), and a quoted Chinese title.
KEPT = re.compile(segments.NON_PROSE.pattern + r"|\"[^\"]*[\u4e00-\u9fff][^\"]*\"", re.S)


@dataclass(frozen=True)
class Term:
    """A glossary entry: English spellings (a regular expression) and the Chinese term."""

    english: str
    chinese: str
    pattern: re.Pattern


def role_targets(text: str) -> Counter:
    """Each role of ``text`` with what must not change in it (for {ref}-like roles, the target)."""
    found = Counter()
    for match in ROLE.finditer(text):
        role, content = match["role"], match["content"]
        if role in SHOWN_TEXT_ROLES:
            explicit = re.search(r"<([^>]+)>\s*$", content)
            content = explicit.group(1) if explicit else content
        found[(role, content.strip())] += 1
    return found


def inline_code(text: str) -> Counter:
    without_roles = ROLE.sub(" ", MATH.sub(" ", text))
    return Counter(match.group(0) for match in CODE.finditer(without_roles))


def math(text: str) -> Counter:
    """The math of ``text``, each formula with its white space collapsed (lines may break anew)."""
    return Counter(" ".join(formula.split()) for formula in MATH.findall(text))


CJK_OR_PUNCTUATION = r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef“”‘’]"
LINK_ROLE = re.compile(r"\{(?P<role>doc|ref|numref|prf:ref)\}`(?P<content>[^`]*)`")


NUMBERED_TARGET = re.compile(r"^(ex-|fig-|thm-|tbl-|lem-|def-)")


def _shown_edges(role: str, content: str) -> tuple[str, str] | None:
    """What a link role shows at its start and its end: "cjk", "latin" or "digit" (None if unknown).

    Explicit text shows itself. A bare {numref}, {prf:ref}, or {ref} to an exercise or figure shows
    "图 2.1", "定理 1.1", "练习 2.6" in the Chinese edition: Chinese, then a number. A bare {doc} or
    {ref} to a section shows that page's or section's title: unknown here.
    """
    explicit = re.match(r"(?P<text>.*?)\s*<[^>]+>\s*$", content, re.S)
    if explicit is not None:
        text = explicit["text"].strip()
        kind = lambda char: ("cjk" if re.match(CJK_OR_PUNCTUATION, char)
                             else "digit" if char.isdigit() else "latin")
        return (kind(text[:1]), kind(text[-1:])) if text else None
    if role in {"numref", "prf:ref"} or (role == "ref" and NUMBERED_TARGET.match(content.strip())):
        return "cjk", "digit"
    return None


def spacing_problems(translation: str) -> list[str]:
    """Spaces around links, as around any text (中文文案排版指北): none between a link that shows
    Chinese and Chinese text, one between a link that ends in a number or a Latin letter and the
    Chinese after it."""
    problems = []
    for match in LINK_ROLE.finditer(translation):
        edges = _shown_edges(match["role"], match["content"])
        if edges is None:
            continue
        start, end = edges
        before = translation[max(0, match.start() - 2):match.start()]
        after = translation[match.end():match.end() + 2]
        shown = match.group(0)[:40]
        if start == "cjk" and len(before) == 2 and before[1] == " " and re.match(CJK_OR_PUNCTUATION, before[0]):
            problems.append(f"space before the link {shown!r}: remove it")
        if end == "cjk" and len(after) == 2 and after[0] == " " and re.match(CJK_OR_PUNCTUATION, after[1]):
            problems.append(f"space after the link {shown!r}: remove it")
        if end in {"digit", "latin"} and after[:1] and re.match(r"[\u4e00-\u9fff]", after[:1]):
            problems.append(f"no space after the link {shown!r}, which ends in {end}: add one")
    return problems


def fix_spacing(translation: str) -> str:
    """``translation`` with the spacing around its links made as ``spacing_problems`` asks."""
    for match in reversed(list(LINK_ROLE.finditer(translation))):
        edges = _shown_edges(match["role"], match["content"])
        if edges is None:
            continue
        start, end = edges
        stop = match.end()
        after = translation[stop:stop + 2]
        if end == "cjk" and len(after) == 2 and after[0] == " " and re.match(CJK_OR_PUNCTUATION, after[1]):
            translation = translation[:stop] + translation[stop + 1:]
        elif end in {"digit", "latin"} and after[:1] and re.match(r"[\u4e00-\u9fff]", after[:1]):
            translation = translation[:stop] + " " + translation[stop:]
        begin = match.start()
        before = translation[max(0, begin - 2):begin]
        if start == "cjk" and len(before) == 2 and before[1] == " " and re.match(CJK_OR_PUNCTUATION, before[0]):
            translation = translation[:begin - 1] + translation[begin:]
    return translation


def fix_catalogue_spacing(path: Path) -> int:
    """Apply ``fix_spacing`` to every translation of a ``.po`` file; return how many changed."""
    from babel.messages.pofile import write_po

    parsed = catalogue.read_catalogue(path)
    changed = 0
    for message in parsed:
        if message.id and message.string:
            fixed = fix_spacing(message.string)
            changed += fixed != message.string
            message.string = fixed
    if changed:
        with path.open("wb") as handle:
            write_po(handle, parsed, width=0)
    return changed


def markup_problems(english: str, translation: str) -> list[str]:
    """What the translation changed that it must keep."""
    problems = []
    if math(english) != math(translation):
        missing = math(english) - math(translation)
        extra = math(translation) - math(english)
        problems.append(f"math differs: missing {sorted(missing)}, added {sorted(extra)}")
    if role_targets(english) != role_targets(translation):
        missing = role_targets(english) - role_targets(translation)
        extra = role_targets(translation) - role_targets(english)
        problems.append(f"roles differ: missing {sorted(missing)}, added {sorted(extra)}")
    if inline_code(english) != inline_code(translation):
        missing = inline_code(english) - inline_code(translation)
        extra = inline_code(translation) - inline_code(english)
        problems.append(f"inline code differs: missing {sorted(missing)}, added {sorted(extra)}")
    if Counter(SUBSTITUTION.findall(english)) != Counter(SUBSTITUTION.findall(translation)):
        problems.append("substitutions {{ ... }} differ")
    if Counter(LINK_TARGET.findall(english)) != Counter(LINK_TARGET.findall(translation)):
        problems.append("link targets differ")
    if english.lstrip().startswith("|") and english.count("|") != translation.count("|"):
        problems.append("table row: the number of | differs")
    if "\n" not in english and "\n" in translation and english.lstrip().startswith("|"):
        problems.append("a one-line table row became several lines")
    marker = re.match(r"(?:[-*+]|\d+[.)])\s", english)
    if marker and not translation.startswith(marker.group(0)):
        problems.append(f"the nested list marker {marker.group(0)!r} at the start is missing")
    if translation != translation.strip() and english == english.strip():
        problems.append("leading or trailing white space added")
    return problems


def glossary(page: Path = GLOSSARY_PAGE) -> list[Term]:
    """The glossary's terms: rows ``| English | 中文 | ... |`` of the table in ``glossary.md``.

    The English cell may give several spellings separated by `` / ``; each matches whole words, case
    insensitively, with an optional plural or verb ending.
    """
    terms = []
    for line in page.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.lstrip().startswith("|") or len(cells) < 2 or set(cells[0]) <= set("-: "):
            continue
        english, chinese = cells[0], cells[1]
        if english.lower() in {"english", "english term"}:
            continue
        spellings = [s.strip() for s in english.split(" / ") if s.strip()]
        alternatives = "|".join(re.escape(s).replace(r"\-", "[-‐–— ]?").replace(r"\ ", r"[\s-]+")
                                for s in sorted(spellings, key=len, reverse=True))
        pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?:s|es|ed|ing)?(?![\w-])", re.I)
        terms.append(Term(english, chinese.split("（")[0].split("(")[0].strip(), pattern))
    return terms


def english_prose(text: str) -> str:
    """``text`` without what a translation keeps as it is (math, code, roles, link targets)."""
    return KEPT.sub(" ", text)


def glossary_problems(english: str, translation: str, terms: list[Term]) -> list[str]:
    """Glossary terms of ``english`` whose Chinese term is missing from ``translation``.

    Where spellings of two terms overlap ("vector-Jacobian product" and "Jacobian"), the longest
    match wins, so only its Chinese term is required.
    """
    required = dict.fromkeys(term for term, _ in terms_used(english, terms))
    return [f"glossary: {term.english!r} should be {term.chinese!r}"
            for term in required if term.chinese not in translation]


def terms_used(english: str, terms: list[Term]) -> list[tuple[Term, str]]:
    """The glossary terms of an English text (longest match first), each with its spelling there."""
    prose = english_prose(english)
    matches = sorted(((m.start(), m.end(), term) for term in terms for m in term.pattern.finditer(prose)),
                     key=lambda m: (m[0], -(m[1] - m[0])))
    used, end = [], -1
    for start, stop, term in matches:
        if start >= end:
            used.append((term, prose[start:stop]))
            end = stop
    return used


def glossed(chinese: str, translation: str) -> bool:
    """Whether ``translation`` gives the English beside the Chinese term, within its phrase:
    雅可比矩阵（Jacobian）, 平移不变性（shift invariance）, 温度缩放（temperature scaling）,
    （u 为单位舍入误差，unit roundoff）, or the English first: “probably wrong”（很可能有错）."""
    term = re.escape(chinese)
    after = term + r"[^（。；，：\n]{0,16}[（，][”“\"]?[A-Za-z]"        # 单位舍入误差，unit roundoff）
    before = r"[A-Za-z][”\"]?（[^）]{0,8}" + term                   # “probably wrong”（很可能有错）
    return re.search(after, translation) is not None or re.search(before, translation) is not None


def first_use_gaps(messages: list[tuple[str, str]], terms: list[Term]) -> list[tuple[str, Term, str]]:
    """(English message, term, English to give) for each glossary term whose first use in a page's
    prose (``messages``: English and translation, in reading order, paragraphs and list items
    only) does not give the English in parentheses after the Chinese term."""
    gaps, seen = [], set()
    for english, translation in messages:
        for term, spelling in terms_used(english, terms):
            if term.english in seen or not re.search(r"[\u4e00-\u9fff]", term.chinese):
                continue
            seen.add(term.english)
            if term.english not in UNGLOSSED and not glossed(term.chinese, translation):
                gaps.append((english, term, gloss(term, spelling)))
    return gaps


def first_use_problems(messages: list[tuple[str, str]], terms: list[Term]) -> list[str]:
    """``first_use_gaps`` as messages for a translator."""
    return [f"first use of {term.chinese!r} without its English: write {term.chinese}（{english_gloss}）"
            f" in {english.splitlines()[0][:60]!r}" for english, term, english_gloss in first_use_gaps(messages, terms)]


def gloss(term: Term, spelling: str) -> str:
    """The English to give in parentheses: the glossary's spelling that the text uses (strong
    convexity, not strongly convex), singular and in lower case unless a name (Jacobian)."""
    spellings = [s.strip() for s in term.english.split(" / ")]
    plain = spelling.lower().replace("‐", "-")
    for candidate in spellings:
        if plain.startswith(candidate.lower()):
            return candidate
    return spellings[0]


UNGLOSSED = {"exercise"}  # a word every chapter's exercises section names in its heading


def catalogue_problems(path: Path, terms: list[Term] | None = None) -> list[str]:
    """Every problem of one ``.po`` file, each prefixed by the message's first words."""
    terms = glossary() if terms is None else terms
    parsed = catalogue.read_catalogue(path)
    problems = []
    for message in parsed:
        if not message.id:
            continue
        head = message.id.split("\n")[0][:60]
        if message.fuzzy:
            problems.append(f"{head!r}: fuzzy")
        if not message.string:
            problems.append(f"{head!r}: not translated")
            continue
        for problem in markup_problems(message.id, message.string) + spacing_problems(
                message.string) + glossary_problems(
                message.id, message.string, terms):
            problems.append(f"{head!r}: {problem}")
    problems += [f"{message_id.split(chr(10))[0][:60]!r}: obsolete (remove it)"
                 for message_id in parsed.obsolete]
    return problems


def main(paths: list[str], fix: bool = False) -> int:
    """Print the problems of the given ``.po`` files (all catalogues if none); exit 1 if any.
    With ``fix``, first correct the spacing around links (the one problem a tool can fix)."""
    files = [Path(p) for p in paths] or sorted(catalogue.LOCALES.rglob("*.po"))
    if fix:
        for path in files:
            fixed = fix_catalogue_spacing(path)
            if fixed:
                print(f"{path}: spacing around links fixed in {fixed} message(s)")
    count = 0
    for path in files:
        for problem in catalogue_problems(path):
            print(f"{path}: {problem}")
            count += 1
    print(f"{count} problem(s) in {len(files)} catalogue(s)")
    return 1 if count else 0
