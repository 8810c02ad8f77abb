"""Glue computed values into the book's prose, with or without myst-nb.

On the website the chapters are executed by Jupyter Book, and :func:`glue` is ``myst_nb.glue``:
the value is stored in the notebook's output and the prose shows it through ``{glue:text}`` and
``{glue:}`` roles. A reader who opens a chapter on its own (Colab ships no myst-nb, and installing
Sphinx there can break the runtime's preinstalled packages) still runs every cell: there
:func:`glue` shows the value in the cell's output if asked to, and otherwise does nothing. The
numbers are computed and asserted either way; only their insertion into the prose needs myst-nb.

Used by every chapter, from chapter 1, "What softmax is", on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

try:  # the book build has myst-nb; Binder's lean environment and Colab do not
    from myst_nb import glue as _myst_nb_glue
except ImportError:  # pragma: no cover - exercised by the Colab-environment test
    _myst_nb_glue = None

__all__ = ["glue", "HAVE_MYST_NB"]

HAVE_MYST_NB: bool = _myst_nb_glue is not None


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Store ``variable`` under ``name`` for the prose (``myst_nb.glue``'s signature).

    A numpy scalar is glued as the Python number of the same value, so that format specs such as
    ``{glue:text}`name:.3f``` work on it.

    Without myst-nb, show ``variable`` in the cell's output when ``display`` is true, as
    ``myst_nb.glue`` does, and keep nothing: a notebook run alone has no prose to fill in.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string, got {name!r}")
    if isinstance(variable, np.generic):
        # numpy 2 writes np.float64(0.5) as its repr, which {glue:text}`name:.3f` cannot format:
        # glue the Python number with the same value instead.
        variable = variable.item()
    if _myst_nb_glue is not None:
        _myst_nb_glue(name, variable, display=display)
        return
    if display:
        from IPython.display import display as show

        show(variable)
