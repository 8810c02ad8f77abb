"""Build the editions of Softmax Notes from the one source, and maintain the translations.

Usage, from the repository root::

    .venv/bin/python tools/build_edition.py student [--pdf] [--output DIR] [--cache DIR]
    .venv/bin/python tools/build_edition.py zh [--output DIR] [--cache DIR]
    .venv/bin/python tools/build_edition.py pot [--output DIR]      # extract the English messages
    .venv/bin/python tools/build_edition.py check [--fix-spacing] [PO ...]   # check translations

``student`` is the website (or, with ``--pdf``, the PDF) without the solutions
(``editions/student.py``); ``zh`` is the Chinese website, written to ``_build/html/zh/``
(``editions/zh.py``). Both derive their configuration from ``_config.yml`` and reuse the notebook
outputs of the English build's jupyter cache: no chapter is executed twice. ``pot`` writes the
message templates (``_build/gettext/*.pot``) that ``sphinx-intl update`` merges into
``locales/zh_CN/LC_MESSAGES/*.po``; ``check`` reports untranslated, fuzzy or obsolete messages,
changed markup and glossary terms not used (see ``contributing.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from editions import catalogue, check, student, zh  # noqa: E402

ROOT = catalogue.ROOT
DEFAULT_POT = ROOT / "_build" / "gettext"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "student":
        return student.main(argv[1:])
    if argv and argv[0] == "zh":
        return zh.main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("student", help="the student edition (see editions/student.py)")
    commands.add_parser("zh", help="the Chinese edition (see editions/zh.py)")
    pot = commands.add_parser("pot", help="write the English message templates (.pot)")
    pot.add_argument("--output", type=Path, default=DEFAULT_POT)
    checking = commands.add_parser("check", help="check .po catalogues (all if none given)")
    checking.add_argument("catalogues", nargs="*")
    checking.add_argument("--fix-spacing", action="store_true",
                          help="first correct the spacing around links in the catalogues")
    arguments = parser.parse_args(argv)
    if arguments.command == "pot":
        written = catalogue.write_templates(arguments.output)
        print(f"{len(written)} templates in {arguments.output}")
        return 0
    if arguments.command == "check":
        return check.main(arguments.catalogues, fix=arguments.fix_spacing)
    return 2


if __name__ == "__main__":
    sys.exit(main())
