"""Every chapter runs on Colab: alone, in a runtime that has only Colab's preinstalled stack.

A rehearsal of what a reader gets from the rocket menu's Colab button: a fresh virtual environment
of Python 3.12 with only the packages a Colab runtime ships (``COLAB_STACK``: no myst-nb, no Jupyter
Book, no Sphinx, ipywidgets 7), and each chapter executed with nbclient as the only file in an
empty folder. The notebook's own first cell installs ``softmaxnotes``; its URL is redirected from
the repository on GitHub to a copy of this checkout (pip rejects ``git+file://``, so
``softmaxnotes @ file:///...``). Each chapter's kernel runs in a fresh, empty venv that sees the
cached Colab stack, so the installation happens in every chapter, as in a fresh Colab runtime, and
the cached stack never holds ``softmaxnotes``.

The environment is built once (about a minute, cached under ``_build/reader-envs/``, see
``reader_envs.py``). Without Python 3.12 the tests skip, and fail under ``CI=true``; set
``READER_PYTHON_3_12`` to point at an interpreter.
"""

from __future__ import annotations

import json
import os

import pytest

from booktools import load_notebook, source_of, toc_entries
from reader_envs import (
    ChapterFailed,
    distributions,
    ensure_env,
    execute,
    find_python,
    importable,
    install_cell,
    installed,
    outputs_text,
    overlay_env,
    redirect_install_cell,
    site_packages,
    snapshot_of_checkout,
)

# A Colab runtime's versions of what the chapters (and a Jupyter kernel) use, as shipped with its
# Python 3.12 runtime; pip resolves their dependencies. ipython 7.34 and ipykernel 6.17 are Colab's
# (its %pip magic runs ``sys.executable -m pip``); notebook 6.5 comes with widgetsnbextension 3.
COLAB_STACK = [
    "pip==24.1.2",
    "numpy==2.0.2",
    "scipy==1.16.3",
    "sympy==1.13.3",
    "mpmath==1.3.0",
    "matplotlib==3.10.0",
    "pandas==2.2.2",
    "scikit-learn==1.6.1",
    "ipywidgets==7.7.1",
    "ipykernel==6.17.1",
    "ipython==7.34.0",
    "jupyter-client==7.4.9",
    "notebook==6.5.7",
]
NOT_ON_COLAB = (
    "myst-nb",
    "jupyter-book",
    "sphinx",
    "softmaxnotes",
    "myst-parser",
    "sphinx-exercise",
    "sphinx-proof",
)

CHAPTERS = [entry for entry in toc_entries() if entry.startswith("chapters/")]


@pytest.fixture(scope="session")
def colab_python():
    python = find_python(12)
    if python is None:
        message = (
            "Python 3.12 (Colab's) not found: no python3.12 on the PATH, no pyenv 3.12.x; "
            "set READER_PYTHON_3_12 to an interpreter"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return python


@pytest.fixture(scope="session")
def colab_env(colab_python):
    return ensure_env("colab", colab_python, [COLAB_STACK])


@pytest.fixture(scope="session")
def checkout(tmp_path_factory):
    return snapshot_of_checkout(tmp_path_factory.mktemp("softmaxnotes-checkout"))


def test_the_install_cell_must_be_the_one_that_is_redirected(tmp_path):
    """The rewrite fails loudly when the install cell changed, rather than running the chapter
    without installing softmaxnotes (or from GitHub)."""
    notebook = load_notebook(source_of(CHAPTERS[0]))
    redirected = redirect_install_cell(json.loads(json.dumps(notebook)), tmp_path)
    assert f'"softmaxnotes @ {tmp_path.as_uri()}"' in redirected and "git+" not in redirected
    for old, new in [
        ("git+https://github.com/", "git+https://gitlab.com/"),
        ("%pip install --quiet", "!pip install --quiet"),
        ("import softmaxnotes\n", "import numpy\n"),
    ]:
        changed = json.loads(json.dumps(notebook))
        cell = install_cell(changed)
        source = "".join(cell["source"])
        assert old in source
        cell["source"] = source.replace(old, new)
        with pytest.raises(AssertionError):
            redirect_install_cell(changed, tmp_path)


def test_the_colab_like_environment_has_colab_stack_only(colab_env):
    found = distributions(colab_env.python)
    for pin in COLAB_STACK:
        name, version = pin.split("==")
        assert found.get(name) == version, f"{name}: {found.get(name)} installed, {version} pinned"
    for name in NOT_ON_COLAB:
        assert name not in found, f"{name} is installed: Colab does not ship it"
    for module in ("myst_nb", "sphinx", "jupyter_book", "softmaxnotes"):
        assert not importable(colab_env.python, module), module
    assert installed(colab_env.python, "ipywidgets").startswith("7.")


@pytest.mark.parametrize("entry", CHAPTERS, ids=[e.removeprefix("chapters/") for e in CHAPTERS])
def test_chapter_runs_alone_on_colab(entry, colab_env, colab_python, checkout, tmp_path):
    notebook = load_notebook(source_of(entry))
    redirect_install_cell(notebook, checkout)
    folder = tmp_path / "content"  # Colab's working folder: the notebook and nothing else
    folder.mkdir()
    (folder / source_of(entry).name).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    kernel_python = overlay_env(colab_env, colab_python, tmp_path / "runtime")
    try:
        run = execute(
            notebook,
            kernel_python,
            folder,
            tmp_path / "kernels",
            label=f"{entry} on Colab (Python 3.12, Colab's stack)",
        )
    except ChapterFailed as failure:
        pytest.fail(str(failure), pytrace=False)
    executed = run.notebook
    if run.widget_probe is not None:  # the explorer: its controls work with Colab's ipywidgets 7
        assert run.widget_probe.startswith("moved:") and not run.widget_probe.startswith(
            "moved: 0"
        ), run.widget_probe
        assert "ipywidgets 7." in run.widget_probe, run.widget_probe
        assert run.outputs_changed, (
            f"{entry}: moving the controls updated no output ({run.widget_probe})"
        )
    # The install cell installed the package into this chapter's runtime, from the checkout.
    runtime_site = site_packages(kernel_python)
    installs = list(runtime_site.glob("softmaxnotes-*.dist-info"))
    assert installs, (
        f"{entry}: the install cell installed nothing:\n{outputs_text(install_cell(executed))}"
    )
    assert (installs[0] / "direct_url.json").read_text(encoding="utf-8").count(
        checkout.as_uri()
    ) == 1
    assert not importable(colab_env.python, "softmaxnotes"), "the cached Colab stack was modified"
