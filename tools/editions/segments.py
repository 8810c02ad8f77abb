"""Split MyST markdown into translatable units, and reassemble it.

A translation replaces prose only. This module cuts a markdown text (a notebook's markdown cell, or a
whole ``.md`` page) into a sequence of segments, each either *verbatim* (kept as it is in every
edition: blank lines, directive fences and their options, labels, display math, code blocks, lines
without prose) or *translatable* (a heading's text, a directive's title, or a block of consecutive
prose lines: a paragraph, a list, a table). ``join`` puts the segments back; with every translatable
segment unchanged, ``join(split(text)) == text`` exactly (tests/test_editions.py checks it on every
page of the book), so a catalogue message is exactly the unit that the Chinese edition replaces.

A translatable unit is stored without its common indentation (it is re-indented on the way back), so
a paragraph inside a list item or a directive reads as a paragraph in the catalogue.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Directives whose content is prose (translated unit by unit) and whose argument, if any, is a title.
PROSE_DIRECTIVES = {"exercise", "solution", "solution-start", "note", "warning", "tip", "important",
                    "caution", "hint", "seealso", "admonition", "epigraph", "list-table"}
PROSE_DIRECTIVE_PREFIXES = ("prf:",)
# Directives whose argument is a label, not a title.
LABEL_ARGUMENT_DIRECTIVES = {"solution", "solution-start", "solution-end"}

FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,}|:{3,})(?P<info>.*)$")
DIRECTIVE_INFO = re.compile(r"^\{(?P<name>[^}]+)\}\s*(?P<argument>.*)$")
OPTION = re.compile(r"^\s*:[\w-]+:")
TARGET = re.compile(r"^\s*\([\w:.-]+\)=\s*$")
HEADING = re.compile(r"^(?P<marks>\s*#{1,6}\s+)(?P<text>.*?)(?P<trail>\s*)$")
COMMENT = re.compile(r"^\s*(<!--.*-->|%.*)\s*$")
# Spans that carry no prose: math, inline code, roles, links' targets, html tags.
NON_PROSE = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|``.*?``|`[^`]*`|\{[\w:-]+\}|\]\([^)]*\)|<[^>]+>|https?://\S+",
                       re.S)


@dataclass(frozen=True)
class Segment:
    """A piece of markdown: ``text`` is kept as is unless ``translatable``.

    A translatable segment's ``text`` has its common indentation ``indent`` removed from every line;
    ``prefix`` and ``suffix`` (a heading's ``#`` marks, a directive's fence) stay outside the message.
    """

    text: str
    translatable: bool = False
    indent: str = ""
    prefix: str = ""
    suffix: str = ""

    def render(self, text: str | None = None) -> str:
        """The segment as markdown, with ``text`` (a translation) in place of its own text."""
        if not self.translatable:
            return self.text
        body = self.text if text is None else text
        lines = body.split("\n")
        body = "\n".join([lines[0]] + [(self.indent + line) if line else line for line in lines[1:]])
        first_indent = "" if self.prefix else self.indent
        return f"{self.prefix}{first_indent}{body}{self.suffix}"


def has_prose(text: str) -> bool:
    """Whether ``text`` has words to translate once math, code, roles and link targets are removed."""
    return re.search(r"[A-Za-z]{2,}", NON_PROSE.sub(" ", text)) is not None


def _common_indent(lines: list[str]) -> str:
    indents = [re.match(r"\s*", line).group(0) for line in lines if line.strip()]
    common = min(indents, key=len) if indents else ""
    while common and not all(line.startswith(common) for line in lines if line.strip()):
        common = common[:-1]
    return common


LIST_ITEM = re.compile(r"^(?P<marker>\s*(?:[-*+]|\d+[.)])\s+)(?P<text>.*)$")
TABLE_ROW = re.compile(r"^\s*\|")


def _prose(lines: list[str]) -> list[Segment]:
    """A block of consecutive prose lines: one segment per list item, table row or paragraph."""
    units: list[list[str]] = []
    for line in lines:
        item = LIST_ITEM.match(line)
        in_list = units and LIST_ITEM.match(units[-1][0])
        # CommonMark: a list interrupts a paragraph only with a bullet or the number 1 ("... is\n0. From"
        # continues the paragraph); inside a list (or dedented out of an item's paragraph), every
        # marker starts an item.
        dedented = units and _indent_of(line) < _indent_of(units[-1][0])
        starts_item = item and (in_list or dedented or not re.match(r"\s*\d", item["marker"])
                                or int(re.match(r"\s*(\d+)", item["marker"]).group(1)) == 1)
        starts_unit = starts_item or TABLE_ROW.match(line)
        continues_table = units and TABLE_ROW.match(units[-1][0])
        if not units or starts_unit or continues_table:
            units.append([line])
        else:
            units[-1].append(line)
    return [_unit(unit) for unit in units]


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip())


def _unit(lines: list[str]) -> Segment:
    """One list item, table row or paragraph (verbatim if it has no prose)."""
    text = "\n".join(lines)
    if not has_prose(text):
        return Segment(text + "\n")
    item = LIST_ITEM.match(lines[0])
    if item:
        indent = _common_indent(lines[1:])
        body = "\n".join([item["text"]] + [line[len(indent):] for line in lines[1:]])
        return Segment(body, True, indent, prefix=item["marker"], suffix="\n")
    indent = _common_indent(lines)
    body = "\n".join(line[len(indent):] for line in lines)
    return Segment(body, True, indent, suffix="\n")


def _directive_is_prose(name: str) -> bool:
    return name in PROSE_DIRECTIVES or name.startswith(PROSE_DIRECTIVE_PREFIXES)


def _closing_fence(lines: list[str], start: int, fence: str) -> int:
    """Index of the line that closes the fence opened at ``start`` (or len(lines) if none does)."""
    char, length = fence[0], len(fence)
    for index in range(start + 1, len(lines)):
        stripped = lines[index].strip()
        if stripped and set(stripped) == {char} and len(stripped) >= length:
            return index
    return len(lines)


def _math_end(lines: list[str], start: int) -> int:
    """Index of the line that ends the display math opened by ``$$`` on line ``start``."""
    if "$$" in lines[start].strip()[2:]:
        return start
    for index in range(start + 1, len(lines)):
        if "$$" in lines[index]:
            return index
    return len(lines) - 1


def split(text: str) -> list[Segment]:
    """Cut ``text`` into segments; ``join(split(text)) == text``."""
    lines = text.split("\n")
    segments: list[Segment] = []
    _split_lines(lines, segments)
    # _split_lines adds a newline after every line; the text's last line (perhaps empty) had none.
    if segments:
        last = segments[-1]
        segments[-1] = _without_final_newline(last)
    return segments


def _without_final_newline(segment: Segment) -> Segment:
    if segment.translatable:
        return Segment(segment.text, True, segment.indent, segment.prefix, segment.suffix[:-1])
    return Segment(segment.text[:-1])


def _split_lines(lines: list[str], segments: list[Segment]) -> None:
    index, block = 0, []

    def flush() -> None:
        if block:
            segments.extend(_prose(block))
            block.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        fence = FENCE.match(line)
        if not stripped or TARGET.match(line) or COMMENT.match(line):
            flush()
            segments.append(Segment(line + "\n"))
            index += 1
        elif fence:
            flush()
            end = _closing_fence(lines, index, fence["fence"])
            index = _fenced(lines, index, end, fence, segments)
        elif stripped.startswith("$$"):
            flush()
            end = _math_end(lines, index)
            segments.append(Segment("\n".join(lines[index:end + 1]) + "\n"))
            index = end + 1
        elif HEADING.match(line) and stripped.startswith("#"):
            flush()
            heading = HEADING.match(line)
            if has_prose(heading["text"]):
                segments.append(Segment(heading["text"], True, prefix=heading["marks"],
                                        suffix=heading["trail"] + "\n"))
            else:
                segments.append(Segment(line + "\n"))
            index += 1
        else:
            block.append(line)
            index += 1
    flush()


def _fenced(lines: list[str], start: int, end: int, fence: re.Match, segments: list[Segment]) -> int:
    """Segments of the fenced block from ``start`` to its closing line ``end``; the index after it."""
    info = DIRECTIVE_INFO.match(fence["info"].strip())
    closing = lines[end:end + 1]
    if not info or not _directive_is_prose(info["name"].strip()):
        segments.append(Segment("\n".join(lines[start:end + 1]) + "\n"))
        return end + 1
    name, argument = info["name"].strip(), info["argument"]
    opening = lines[start]
    if argument and name not in LABEL_ARGUMENT_DIRECTIVES and has_prose(argument):
        head = opening[: len(opening) - len(argument)]
        segments.append(Segment(argument.rstrip(), True, prefix=head,
                                suffix=argument[len(argument.rstrip()):] + "\n"))
    else:
        segments.append(Segment(opening + "\n"))
    body = start + 1
    while body < end and OPTION.match(lines[body]):
        segments.append(Segment(lines[body] + "\n"))
        body += 1
    _split_lines(lines[body:end], segments)
    for line in closing:
        segments.append(Segment(line + "\n"))
    return end + 1


def join(segments: list[Segment], translations: dict[str, str] | None = None) -> str:
    """The markdown of ``segments``, each translatable one replaced by ``translations[text]`` if given."""
    translations = translations or {}
    return "".join(s.render(translations.get(s.text) or None) if s.translatable else s.text
                   for s in segments)


def messages(text: str) -> list[str]:
    """The translatable units of ``text``, in order (duplicates kept)."""
    return [segment.text for segment in split(text) if segment.translatable]


def kind(segment: Segment) -> str:
    """What a translatable segment is: "heading", "title" (a directive's), "table" (a row) or "prose"."""
    if segment.prefix.lstrip().startswith("#"):
        return "heading"
    if "{" in segment.prefix:
        return "title"
    if segment.text.lstrip().startswith("|"):
        return "table"
    return "prose"


def units(text: str) -> list[tuple[str, str]]:
    """(text, kind) of each translatable unit of ``text``, in order."""
    return [(segment.text, kind(segment)) for segment in split(text) if segment.translatable]
