"""Fresh virtual environments for tests, offline and in seconds.

Tests must not use the network, yet some must install this project into a venv that holds
nothing else of it (tests/test_project.py: what `pulumi install` builds; tests/packaging: the
built wheel). The third-party packages are already installed in this checkout's `.venv` by
`make setup`: a test venv sees the ones it may use through a directory of symlinks named in a
`.pth` file (site.py adds each line of a `.pth` in site-packages to sys.path), and pip installs
the project itself with `--no-index`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement


def environ_without_pythonpath() -> dict[str, str]:
    """This process's environment minus PYTHONPATH: a child interpreter finds only what its own
    venv (or sys.path set up by the test) holds, never the checkout through PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


#: Entries of site-packages that belong to this project's own (editable) install.
_OWN = ("__editable__", "regulated_inference")


def site_packages(python: Path) -> Path:
    """The purelib directory of the interpreter `python`."""
    out = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip())


def third_party_only(site: Path, dest: Path) -> Path:
    """Links to everything installed in `site` except this project's own install."""
    dest.mkdir()
    for entry in site.iterdir():
        if entry.name.startswith(_OWN) or entry.suffix == ".pth":
            continue
        (dest / entry.name).symlink_to(entry)
    return dest


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_closure(requirements: Iterable[str]) -> dict[str, metadata.Distribution]:
    """The installed distributions `requirements` need, transitively (markers evaluated for this
    interpreter, no extras), by canonical name. KeyError names a requirement not installed."""
    found: dict[str, metadata.Distribution] = {}
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = _canonical(req.name)
        if key in found:
            continue
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError as e:
            raise KeyError(f"{req.name} is required but not installed in {sys.prefix}") from e
        found[key] = dist
        todo.extend(Requirement(r) for r in dist.requires or [])
    return found


def link_distributions(dists: Iterable[metadata.Distribution], site: Path, dest: Path) -> Path:
    """Links in `dest` to exactly the top-level files and directories of `dists` (from their
    RECORD) in `site`, and their .dist-info: a venv that sees `dest` sees those distributions
    and nothing else."""
    dest.mkdir()
    for dist in dists:
        for file in dist.files or []:
            top = file.parts[0]
            if top == ".." or top.startswith(_OWN):  # scripts in bin/, or this project
                continue
            if not (dest / top).exists() and (site / top).exists():
                (dest / top).symlink_to(site / top)
    return dest


def bare_venv(path: Path, packages: Path) -> Path:
    """A venv without pip whose sys.path also holds `packages` (a directory of links); returns
    its interpreter. Install into it with `python -m pip --python <it> install ...`."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    python = path / "bin" / "python"
    (site_packages(python) / "third_party.pth").write_text(f"{packages}\n")
    return python
