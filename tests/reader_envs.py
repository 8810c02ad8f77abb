"""Readers' environments for the tests: a Colab-like one and Binder's, and running a chapter there.

A reader does not run the chapters in CI's environment. On Colab a notebook is opened alone, in a
runtime that ships a fixed scientific stack (no myst-nb, no Jupyter Book, no Sphinx); its first
(hidden) cell installs ``softmaxnotes`` from the repository. On Binder, repo2docker installs
``binder/requirements.txt`` into its own Jupyter environment and opens the repository's
``chapters/`` folder. ``tests/test_colab.py`` and ``tests/test_binder.py`` rebuild those
environments as fresh virtual environments and execute every chapter there with nbclient.

nbclient runs in the test process (CI's environment); only the kernel runs in the reader's
environment: a kernelspec points at that environment's ``python``, and the kernel gets a clean
process environment (no ``PYTHONPATH``, no ``VIRTUAL_ENV`` of CI's venv).

An environment is built once and cached under ``_build/reader-envs/NAME-KEY``, where ``KEY`` hashes
the interpreter's version and the requirements: a repeated run reuses it, a change of pins builds a
new one (and removes the old), a fresh clone builds it. A file lock lets two test processes share
it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from booktools import REPO, config

ENVS_ROOT = REPO / "_build" / "reader-envs"

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --------------------------------------------------------------------------------------------------
# Interpreters
# --------------------------------------------------------------------------------------------------


def python_version(
    python: str | Path, env: dict | None = None
) -> tuple[str, tuple[int, int]] | None:
    """``(sys.executable, (major, minor))`` of an interpreter command, or None if it fails."""
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; print(sys.executable); print(*sys.version_info[:3])"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    executable, version = result.stdout.split("\n")[:2]
    major, minor, _ = (int(part) for part in version.split())
    return executable, (major, minor)


def find_python(minor: int) -> Path | None:
    """An interpreter of Python 3.<minor>, as an absolute path (no pyenv shim at run time).

    Tried in order: ``$READER_PYTHON_3_<minor>``; ``python3.<minor>`` on the PATH; pyenv's
    installed 3.<minor>.x versions (on a pyenv machine the ``python3.12`` shim only answers when
    3.12 is the selected version, e.g. with ``PYENV_VERSION=3.12.1``).
    """
    candidates: list[str] = []
    override = os.environ.get(f"READER_PYTHON_3_{minor}")
    if override:
        candidates.append(override)
    found = shutil.which(f"python3.{minor}")
    if found:
        candidates.append(found)
    pyenv = shutil.which("pyenv")
    if pyenv:
        listing = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True)
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        versions = [
            v.strip()
            for v in listing.stdout.split()
            if re.fullmatch(rf"3\.{minor}\.\d+", v.strip())
        ]
        versions.sort(key=lambda v: tuple(int(x) for x in v.split(".")), reverse=True)
        candidates += [
            str(Path(root) / "versions" / v / "bin" / f"python3.{minor}") for v in versions
        ]
    for candidate in candidates:
        info = python_version(candidate)
        if info and info[1] == (3, minor):
            return Path(info[0])
    return None


# --------------------------------------------------------------------------------------------------
# Cached virtual environments
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReaderEnv:
    path: Path
    python: Path
    site_packages: Path
    stage_sizes: tuple[int, ...]  # bytes after each installation stage, as ``du -s`` counts them
    build_seconds: float  # 0 when the cached environment was reused


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def disk_usage(path: Path) -> int:
    """Bytes allocated under ``path`` (what ``du -s`` counts), each hard-linked file once."""
    seen: set[tuple[int, int]] = set()
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if (st.st_dev, st.st_ino) in seen:
                continue
            seen.add((st.st_dev, st.st_ino))
            total += st.st_blocks * 512
    return total + os.lstat(path).st_blocks * 512


def site_packages(python: Path) -> Path:
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return Path(out)


def _run(command: list[str], cwd: Path, timeout: float) -> None:
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=clean_environment()
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr)[-4000:]}"
        )


def ensure_env(
    name: str, python: Path, stages: list[list[str]], cwd: Path = REPO, key_extra: str = ""
) -> ReaderEnv:
    """A fresh virtual environment of ``python``, then ``pip install <stage>`` for each stage, run
    from ``cwd``; its size is measured after each stage.

    Cached under ``_build/reader-envs/NAME-KEY``; ``key_extra`` adds to the key what the stages
    only name (e.g. the content of a requirements file).
    """
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    key = hashlib.sha256(
        json.dumps([version, str(python), stages, str(cwd), key_extra]).encode()
    ).hexdigest()[:12]
    path = ENVS_ROOT / f"{name}-{key}"
    marker = path / "reader-env.json"
    env_python = path / "bin" / "python"
    with _locked(ENVS_ROOT / f"{name}.lock"):
        if marker.exists():
            info = json.loads(marker.read_text(encoding="utf-8"))
            return ReaderEnv(
                path, env_python, Path(info["site_packages"]), tuple(info["stage_sizes"]), 0.0
            )
        shutil.rmtree(path, ignore_errors=True)  # an interrupted build
        start = time.monotonic()
        _run([str(python), "-m", "venv", str(path)], cwd, 300)
        sizes = []
        for stage in stages:
            _run([str(env_python), "-m", "pip", "install", "--quiet", *stage], cwd, 1800)
            sizes.append(disk_usage(path))
        seconds = time.monotonic() - start
        site = site_packages(env_python)
        marker.write_text(
            json.dumps(
                {
                    "stages": stages,
                    "python": version,
                    "stage_sizes": sizes,
                    "build_seconds": seconds,
                    "site_packages": str(site),
                },
                indent=1,
            ),
            encoding="utf-8",
        )
        for old in ENVS_ROOT.glob(f"{name}-*"):  # environments of earlier pins
            if old.is_dir() and old != path:
                shutil.rmtree(old, ignore_errors=True)
        return ReaderEnv(path, env_python, site, tuple(sizes), seconds)


def overlay_env(base: ReaderEnv, python: Path, dest: Path) -> Path:
    """A fresh, empty venv at ``dest`` that sees ``base``'s packages; returns its python.

    What a notebook installs (``%pip install`` runs ``sys.executable -m pip``) lands in the
    overlay's own site-packages and the cached ``base`` stays untouched: every chapter starts from
    the same runtime, as every notebook opened on Colab gets a fresh one.
    """
    _run([str(python), "-m", "venv", "--without-pip", str(dest)], dest.parent, 120)
    overlay_python = dest / "bin" / "python"
    site = site_packages(overlay_python)
    # An import line in a .pth file runs at start-up; addsitedir also reads base's own .pth files.
    (site / "_reader_base_env.pth").write_text(
        f"import site; site.addsitedir({str(base.site_packages)!r})\n", encoding="utf-8"
    )
    return overlay_python


def installed(python: Path, distribution: str) -> str | None:
    """The version of ``distribution`` that ``python`` sees, or None."""
    code = (
        "import importlib.metadata as m, sys\n"
        f"try: print(m.version({distribution!r}))\n"
        "except m.PackageNotFoundError: sys.exit(3)"
    )
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=clean_environment(), cwd="/"
    )
    return result.stdout.strip() if result.returncode == 0 else None


def importable(python: Path, module: str) -> bool:
    code = f"import importlib.util, sys; sys.exit(0 if importlib.util.find_spec({module!r}) else 3)"
    result = subprocess.run([str(python), "-c", code], env=clean_environment(), cwd="/")
    return result.returncode == 0


def distributions(python: Path) -> dict[str, str]:
    """Every installed distribution ``python`` sees, normalised name -> version."""
    code = (
        "import importlib.metadata as m, json, re\n"
        "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version "
        "for d in m.distributions()}))"
    )
    result = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env=clean_environment(),
        cwd="/",
    )
    return json.loads(result.stdout)


# --------------------------------------------------------------------------------------------------
# Requirements files
# --------------------------------------------------------------------------------------------------


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, normalised name -> version."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==(\S+)", line)
        if match:
            found[canonical(match.group(1))] = match.group(2)
    return found


def requirement_lines(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


# --------------------------------------------------------------------------------------------------
# Running a chapter
# --------------------------------------------------------------------------------------------------


def clean_environment(path_first: Path | None = None) -> dict[str, str]:
    """The process environment without what points into CI's venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "PYTHONPATH",
            "PYTHONHOME",
            "VIRTUAL_ENV",
            "PYTHONSTARTUP",
            "PYTHONNOUSERSITE",
            "JUPYTER_PATH",
            "JUPYTER_CONFIG_DIR",
            "JUPYTER_DATA_DIR",
            "IPYTHONDIR",
            "MPLBACKEND",
            "PYTEST_XDIST_WORKER",
            "PYTEST_CURRENT_TEST",
        }
        and not k.startswith(("PYTEST_", "COV_"))
    }
    venv_bin = str(Path(sys.prefix) / "bin")
    parts = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin]
    if path_first is not None:
        parts.insert(0, str(path_first))
    env["PATH"] = os.pathsep.join(parts)
    env["PYTHONNOUSERSITE"] = "1"  # nothing from ~/.local
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"  # ipykernel's debugger: no frozen-modules notice
    return env


INSTALL_URL = '"softmaxnotes @ git+{url}"'


def install_cell(notebook: dict) -> dict:
    """The notebook's first code cell, which must be the Colab install cell."""
    first = next(cell for cell in notebook["cells"] if cell["cell_type"] == "code")
    return first


def redirect_install_cell(notebook: dict, source_dir: Path) -> str:
    """Point the install cell's ``%pip install "softmaxnotes @ git+URL"`` at ``source_dir``.

    Returns the new cell source. Raises AssertionError when the cell does not hold exactly one
    such install of the repository named in ``_config.yml``: the test must not pass by skipping
    the installation.
    """
    cell = install_cell(notebook)
    source = "".join(cell["source"])
    url = INSTALL_URL.format(url=config()["repository"]["url"])
    line = f"%pip install --quiet {url}"
    assert source.count(line) == 1 and source.count("%pip install") == 1, (
        f"the first code cell is not the Colab install cell with {line!r}:\n{source}"
    )
    assert re.search(
        r"try:\n\s+import softmaxnotes\nexcept ImportError:\n\s+%pip install", source
    ), source
    # pip rejects git+file:// (a URL without a host); a plain file:// URL installs the same tree.
    new = source.replace(url, f'"softmaxnotes @ {source_dir.resolve().as_uri()}"')
    cell["source"] = new
    return new


def snapshot_of_checkout(dest: Path) -> Path:
    """A copy of the files a clone of the checkout would have (tracked and untracked, not ignored,
    as they are in the working tree), for pip to build from: pip builds a local folder in place and
    would leave ``build/`` in the checkout."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
    )
    if listing.returncode == 0:
        names = list(filter(None, listing.stdout.decode().split("\0")))
    else:  # not a git checkout (an unpacked archive): what the package's build reads
        names = [
            "pyproject.toml",
            "README.md",
            "LICENSE",
            *(str(p.relative_to(REPO)) for p in (REPO / "softmaxnotes").rglob("*.py")),
        ]
    for name in names:
        source = REPO / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


class ChapterFailed(Exception):
    pass


# Appended to a chapter that builds ipywidgets controls: move every control once, as a reader
# would, in the kernel. An observer's exception fails the cell; a live chart changes an output.
WIDGET_PROBE = """\
# Added by tests/reader_envs.py: move every control once, as a reader would.
import ipywidgets as _probe_widgets
_probe_found = []
for _probe_value in list(globals().values()):
    _probe_items = _probe_value if isinstance(_probe_value, (list, tuple)) else [_probe_value]
    for _probe_item in _probe_items:
        if isinstance(_probe_item, _probe_widgets.ValueWidget) and not any(
                _probe_item is seen for seen in _probe_found):
            _probe_found.append(_probe_item)
_probe_moved = []
for _probe_control in _probe_found:
    if isinstance(_probe_control, _probe_widgets.FloatLogSlider):
        _probe_end = _probe_control.base ** _probe_control.max
        _probe_control.value = (_probe_end if _probe_control.value != _probe_end
                                else _probe_control.base ** _probe_control.min)
    elif hasattr(_probe_control, "max") and hasattr(_probe_control, "min"):
        _probe_control.value = (_probe_control.max if _probe_control.value != _probe_control.max
                                else _probe_control.min)
    elif hasattr(_probe_control, "index") and len(getattr(_probe_control, "options", ())) > 1:
        _probe_control.index = (_probe_control.index + 1) % len(_probe_control.options)
    else:
        continue
    _probe_moved.append(type(_probe_control).__name__)
print("moved:", len(_probe_moved), *_probe_moved, "ipywidgets", _probe_widgets.__version__)
"""
PROBE_ID = "reader-env-widget-probe"


@dataclass
class Execution:
    notebook: dict
    widget_probe: str | None = None  # what the probe printed (None: no probe)
    outputs_changed: bool = False  # an earlier cell's output was updated by the probe


def builds_widgets(notebook: dict) -> bool:
    return any(
        cell["cell_type"] == "code"
        and re.search(
            r"^\s*import ipywidgets|^\s*from ipywidgets", "".join(cell["source"]), re.MULTILINE
        )
        for cell in notebook["cells"]
    )


def execute(
    notebook: dict, python: Path, cwd: Path, kernels_dir: Path, label: str, timeout: int = 300
) -> Execution:
    """Execute ``notebook`` with nbclient in a kernel run by ``python`` from ``cwd``.

    A chapter that imports ipywidgets gets ``WIDGET_PROBE`` as a last cell. Raises ChapterFailed
    with the failing cell's source and traceback.
    """
    import copy

    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    spec_dir = kernels_dir / "reader"
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": label,
                "language": "python",
            }
        ),
        encoding="utf-8",
    )
    specs = KernelSpecManager(kernel_dirs=[str(kernels_dir)], ensure_native_kernel=False)
    km = KernelManager(kernel_name="reader", kernel_spec_manager=specs)
    nb = nbformat.reads(json.dumps(notebook), as_version=4)  # sources as strings
    probe = builds_widgets(notebook)
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(WIDGET_PROBE, id=PROBE_ID))
    before: list = []

    def on_cell_start(cell, cell_index):
        if cell.get("id") == PROBE_ID:
            before.append(copy.deepcopy([c.get("outputs", []) for c in nb.cells[:cell_index]]))

    client = NotebookClient(
        nb,
        km=km,
        timeout=timeout,
        startup_timeout=180,  # a kernel starts slowly on a loaded 2-core machine
        kernel_name="reader",
        resources={"metadata": {"path": str(cwd)}},
        on_cell_start=on_cell_start,
    )
    try:
        client.execute(env=clean_environment(path_first=python.parent))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        failing = [
            c
            for c in nb.cells
            if c.cell_type == "code"
            and any(o.get("output_type") == "error" for o in c.get("outputs", []))
        ]
        where = f"cell {failing[-1].get('id')}:\n{failing[-1].source}\n" if failing else ""
        raise ChapterFailed(
            f"{label}: {type(error).__name__}\n{where}\n{ANSI.sub('', str(error))}"
        ) from None
    if not probe:
        return Execution(nb)
    probe_cell = nb.cells.pop()
    after = [c.get("outputs", []) for c in nb.cells]
    return Execution(nb, outputs_text(probe_cell).strip(), bool(before) and before[0] != after)


def outputs_text(cell: dict) -> str:
    """The text a cell printed (streams and text/plain results)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append("".join(output.get("text", "")))
        elif "data" in output and "text/plain" in output["data"]:
            parts.append("".join(output["data"]["text/plain"]))
    return ANSI.sub("", "".join(parts))
