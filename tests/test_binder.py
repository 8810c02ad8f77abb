"""Binder builds a lean reader's environment from ``binder/``, and every chapter runs in it.

repo2docker reads ``binder/`` when that folder exists and then ignores the environment files of the
repository root (``requirements.txt``, ``runtime.txt``, ``pyproject.toml``), which serve CI and the
README's commands. ``binder/requirements.txt`` holds what a reader needs to run the chapters, with
CI's pins, and ``-e .`` (softmaxnotes from the repository); ``binder/runtime.txt`` pins Python 3.11.
Jupyter itself (JupyterLab, ipykernel) comes with repo2docker's base environment.

repo2docker runs here without Docker: ``--no-build --no-run --debug`` prints the Dockerfile it
would build, which is enough to check what Binder would install. The environment itself is
rehearsed as a fresh Python 3.11 venv: first ``pip install -r binder/requirements.txt`` from the
repository root, as repo2docker runs it (its size is the goal of under 600 MB), then the kernel
packages of repo2docker's base environment (versions read from its lock file); every chapter of the
toc is executed there with nbclient, from ``chapters/`` as Binder opens it. Cached under
``_build/reader-envs/`` (see ``reader_envs.py``).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from booktools import REPO, load_notebook, source_of, toc_entries
from reader_envs import (
    ChapterFailed,
    canonical,
    distributions,
    ensure_env,
    execute,
    find_python,
    importable,
    install_cell,
    outputs_text,
    pins,
    requirement_lines,
)

BINDER = REPO / "binder"
BINDER_REQUIREMENTS = BINDER / "requirements.txt"
SIZE_GOAL_MB = 600
# What serves CI and the book build, not a reader: none of it may reach Binder's environment.
NOT_FOR_READERS = (
    "pytest",
    "pytest-xdist",
    "hypothesis",
    "nbmake",
    "playwright",
    "jupyter-repo2docker",
    "jupyter-book",
    "sphinx",
    "myst-nb",
    "myst-parser",
    "sphinx-book-theme",
    "sphinx-proof",
    "sphinx-exercise",
    "sphinxcontrib-bibtex",
    "sphinx-mathjax-offline",
    "docutils",
    "jupyter-cache",
    "nbclient",
)
CHAPTERS = [entry for entry in toc_entries() if entry.startswith("chapters/")]


# --------------------------------------------------------------------------------------------------
# What repo2docker reads
# --------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dockerfile() -> str:
    repo2docker = Path(sys.executable).with_name("repo2docker")
    result = subprocess.run(
        [str(repo2docker), "--no-build", "--no-run", "--debug", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout + result.stderr


def test_binder_uses_python_311(dockerfile):
    assert "Building conda environment for python=3.11" in dockerfile
    assert (BINDER / "runtime.txt").read_text(encoding="utf-8").strip() == "python-3.11"


def test_binder_installs_the_reader_requirements_with_softmaxnotes_from_the_repository(dockerfile):
    workdir = dockerfile.index("WORKDIR ${REPO_DIR}")
    copy_repo = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    requirements = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    # "-e ." in binder/requirements.txt resolves against the working directory, the repository
    # root: the repository must be copied there before the requirements are installed.
    assert workdir < copy_repo < requirements
    assert "-e ." in requirement_lines(BINDER_REQUIREMENTS)
    # Nothing else is installed: not the root requirements.txt (CI's), not the root pyproject.toml
    # a second time.
    installs = [
        line.strip() for line in dockerfile.splitlines() if re.search(r"\bpip install\b", line)
    ]
    assert installs == [
        'RUN ${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"'
    ], installs


def test_binder_reads_no_other_environment_file(dockerfile):
    for name in ("environment.yml", "Pipfile", "setup.py", "apt.txt", "postBuild", "install.R"):
        assert not (REPO / name).exists(), f"{name} would change what Binder installs"
    assert sorted(p.name for p in BINDER.iterdir()) == ["requirements.txt", "runtime.txt"]
    assert not (REPO / ".binder").exists()
    # The only files of the repository the Dockerfile copies before the whole tree: binder's own.
    copies = re.findall(r"^COPY --chown=\S+ (src/\S*) ", dockerfile, flags=re.MULTILINE)
    assert copies == ["src/binder/requirements.txt", "src/"], copies


def test_binder_pins_are_ci_pins():
    ci, binder = pins(REPO / "requirements.txt"), pins(BINDER_REQUIREMENTS)
    for line in requirement_lines(BINDER_REQUIREMENTS):
        assert line == "-e ." or re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][\w.]*", line), line
    assert len(binder) == len(requirement_lines(BINDER_REQUIREMENTS)) - 1  # every line but "-e ."
    shared = sorted(set(ci) & set(binder))
    assert [(name, binder[name]) for name in shared] == [(name, ci[name]) for name in shared]
    assert set(binder) <= set(ci), f"pinned for Binder but not for CI: {set(binder) - set(ci)}"


def test_binder_requirements_name_no_test_or_build_tool():
    assert not set(pins(BINDER_REQUIREMENTS)) & {canonical(n) for n in NOT_FOR_READERS}


# --------------------------------------------------------------------------------------------------
# The environment, rehearsed
# --------------------------------------------------------------------------------------------------


def binder_kernel_pins() -> list[str]:
    """ipykernel, ipython and jupyter_client, as in repo2docker's Python 3.11 base environment."""
    import importlib.util

    package = Path(
        importlib.util.find_spec("repo2docker").submodule_search_locations[0]
    )  # not imported
    lock = (package / "buildpacks" / "conda" / "environment.py-3.11-linux-64.lock").read_text(
        encoding="utf-8"
    )
    found = []
    for conda_name, pip_name in (
        ("ipykernel", "ipykernel"),
        ("ipython", "ipython"),
        ("jupyter_client", "jupyter-client"),
    ):
        match = re.search(rf"/{conda_name}-(\d[\w.]*)-[^/-]+\.conda", lock)
        assert match, f"{conda_name} not in repo2docker's lock file"
        found.append(f"{pip_name}=={match.group(1)}")
    return found


@pytest.fixture(scope="session")
def binder_env():
    python = find_python(11)
    assert python is not None, "Python 3.11 (runtime.txt's) not found"
    key = BINDER_REQUIREMENTS.read_text(encoding="utf-8") + (REPO / "pyproject.toml").read_text(
        encoding="utf-8"
    )
    return ensure_env(
        "binder",
        python,
        [["-r", "binder/requirements.txt"], binder_kernel_pins()],
        cwd=REPO,
        key_extra=key,
    )


def test_binder_environment_is_lean(binder_env):
    size_mb = binder_env.stage_sizes[0] / 2**20
    assert size_mb < SIZE_GOAL_MB, (
        f"a fresh venv from binder/requirements.txt takes {size_mb:.0f} MB"
        f" (goal: < {SIZE_GOAL_MB} MB)"
    )
    found = distributions(binder_env.python)
    assert not [name for name in NOT_FOR_READERS if canonical(name) in found]
    assert not importable(binder_env.python, "myst_nb")
    assert found.get("softmaxnotes") is not None
    check = subprocess.run(
        [str(binder_env.python), "-m", "pip", "check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("entry", CHAPTERS, ids=[e.removeprefix("chapters/") for e in CHAPTERS])
def test_chapter_runs_on_binder(entry, binder_env, tmp_path):
    path = source_of(entry)
    notebook = load_notebook(path)
    try:
        run = execute(
            notebook,
            binder_env.python,
            path.parent,
            tmp_path / "kernels",
            label=f"{entry} on Binder (Python 3.11, binder/requirements.txt)",
        )
    except ChapterFailed as failure:
        pytest.fail(str(failure), pytrace=False)
    # softmaxnotes is installed: the install cell's import succeeds and it installs nothing.
    assert outputs_text(install_cell(run.notebook)) == ""
    if run.widget_probe is not None:  # the explorer: its controls work with Binder's ipywidgets 8
        assert run.widget_probe.startswith("moved:") and not run.widget_probe.startswith(
            "moved: 0"
        ), run.widget_probe
        assert "ipywidgets 8." in run.widget_probe, run.widget_probe
        assert run.outputs_changed, (
            f"{entry}: moving the controls updated no output ({run.widget_probe})"
        )
