"""Sphinx extension: make ``hide_solutions = True`` also hide *gated* solutions.

sphinx-exercise 1.2.1 drops ``{solution}`` directives when ``hide_solutions`` is set, but for the
gated form (``{solution-start}`` ... ``{solution-end}``) it drops only the start marker: the cells
between the markers stay on the page, and the orphaned end marker crashes the HTML writer
("departing unknown node type: solution_end_node"; executablebooks/sphinx-exercise issue #89).

With ``hide_solutions`` set, this extension replaces ``{solution-start}`` by a directive that
still registers the marker with sphinx-exercise (so its structure checks keep working) and leaves a
placeholder node; a transform then removes everything from the placeholder up to and including the
matching ``{solution-end}``. With ``hide_solutions`` unset it changes nothing.

It is loaded only by the student edition (``tools/build_edition.py student`` adds it to the derived
configuration); ``tests/test_book_build.py`` checks that no solution text reaches that site.
"""

from __future__ import annotations

from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_exercise.directive import SolutionStartDirective
from sphinx_exercise.nodes import solution_end_node

logger = logging.getLogger(__name__)


class hidden_solution_start(nodes.Element):  # noqa: N801 (docutils node naming)
    """Placeholder left by a ``{solution-start}`` whose content is to be removed."""


class HiddenSolutionStartDirective(SolutionStartDirective):
    """``{solution-start}`` that, under ``hide_solutions``, leaves a placeholder to cut from."""

    def run(self) -> list[nodes.Node]:
        result = super().run()  # registers the gated marker; [] under hide_solutions
        if not self.env.app.config.hide_solutions:
            return result
        placeholder = hidden_solution_start()
        placeholder["target_label"] = self.arguments[0]
        self.set_source_info(placeholder)
        return [placeholder]


class RemoveHiddenGatedSolutions(SphinxTransform):
    """Cut each placeholder and its siblings up to the next ``solution_end_node``, inclusive."""

    default_priority = 5  # after sphinx-exercise's structure check (1), before its merge (10)

    def apply(self, **kwargs: Any) -> None:
        for start in list(self.document.findall(hidden_solution_start)):
            parent = start.parent
            siblings = parent.children
            first = siblings.index(start)
            ends = (k for k in range(first + 1, len(siblings))
                    if isinstance(siblings[k], solution_end_node))
            last = next(ends, None)
            if last is None:
                logger.warning(
                    "hide_gated_solutions: no {solution-end} after the {solution-start} of %s "
                    "at the same level; its content could not be hidden",
                    start["target_label"],
                    location=start,
                )
                parent.remove(start)
                continue
            del parent[first : last + 1]
        if self.config.hide_solutions:
            for end in list(self.document.findall(solution_end_node)):
                logger.warning(
                    "hide_gated_solutions: a {solution-end} without its {solution-start}",
                    location=end,
                )
                end.parent.remove(end)


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_exercise")
    app.add_node(hidden_solution_start)
    app.add_directive("solution-start", HiddenSolutionStartDirective, override=True)
    app.add_transform(RemoveHiddenGatedSolutions)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
