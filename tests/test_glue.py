"""softmaxnotes.glue: myst-nb's glue when it is there, numpy scalars glued as Python numbers."""

from __future__ import annotations

import numpy as np
import pytest

import softmaxnotes.glue as glue_module


def test_numpy_scalars_are_glued_as_python_numbers(monkeypatch):
    seen = {}
    monkeypatch.setattr(glue_module, "_myst_nb_glue", lambda name, value, display: seen.update({name: value}))
    glue_module.glue("x", np.float64(0.25), display=False)
    glue_module.glue("n", np.int64(3), display=False)
    glue_module.glue("arr", np.array([1.0, 2.0]), display=False)
    assert type(seen["x"]) is float and seen["x"] == 0.25
    assert type(seen["n"]) is int and seen["n"] == 3
    assert isinstance(seen["arr"], np.ndarray)


def test_without_myst_nb_the_value_is_shown_only_when_asked(monkeypatch, capsys):
    monkeypatch.setattr(glue_module, "_myst_nb_glue", None)
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda value: shown.append(value))
    glue_module.glue("quiet", 1.5, display=False)
    glue_module.glue("loud", 2.5)
    assert shown == [2.5]


@pytest.mark.parametrize("name", ["", None, 3])
def test_a_bad_name_is_refused(name):
    with pytest.raises(TypeError, match="name"):
        glue_module.glue(name, 1.0)
