"""Binder builds its environment from the same requirements.txt and runtime.txt that CI uses.

repo2docker runs here without Docker: ``--no-build --no-run --debug`` prints the Dockerfile it
would build, which is enough to check what Binder would install.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from booktools import REPO


@pytest.fixture(scope="module")
def dockerfile() -> str:
    repo2docker = Path(sys.executable).with_name("repo2docker")
    result = subprocess.run(
        [str(repo2docker), "--no-build", "--no-run", "--debug", str(REPO)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout + result.stderr


def test_binder_uses_python_311(dockerfile):
    assert "Building conda environment for python=3.11" in dockerfile


def test_binder_installs_requirements_then_softmaxnotes_from_the_repository(dockerfile):
    workdir = dockerfile.index("WORKDIR ${REPO_DIR}")
    copy_repo = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    requirements = dockerfile.index('pip install --no-cache-dir -r "requirements.txt"')
    package = dockerfile.index("pip install --no-cache-dir .")
    # "-e ." in requirements.txt resolves against the working directory: the repository must be
    # copied there before requirements.txt is installed.
    assert workdir < copy_repo < requirements < package


def test_binder_reads_no_other_environment_file():
    for name in ("environment.yml", "Pipfile", "setup.py", "apt.txt", "postBuild", "install.R"):
        assert not (REPO / name).exists(), f"{name} would change what Binder installs"
    assert not (REPO / "binder").exists() and not (REPO / ".binder").exists()
