"""scripts/setup-runtime.sh: one clear line for a missing tool, nothing rebuilt when nothing changed,
and the MLflow image's own requirements file in the runtime tier's environment, the drift report
image's alone in its own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from support.processes import REPO_ROOT

SETUP = REPO_ROOT / "scripts" / "setup-runtime.sh"


def run_setup(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SETUP)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)


def test_a_second_run_installs_and_builds_nothing():
    # The test command ran it just before; its inputs have not changed since.
    completed = run_setup(dict(os.environ))
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "" and completed.stderr == ""


def test_a_missing_go_is_one_line_naming_it(tmp_path):
    # A PATH holding only python3 and bash: everything else, Go included, is missing.
    (tmp_path / "python3").symlink_to(Path(sys.base_prefix) / "bin" / "python3")
    for tool in ("bash", "cat", "sha256sum", "cut", "dirname"):
        target = subprocess.run(["bash", "-c", f"command -v {tool}"], capture_output=True, text=True).stdout.strip()
        (tmp_path / tool).symlink_to(target)
    completed = run_setup({"PATH": str(tmp_path)})
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [completed.stderr.strip()]
    assert "Go is required" in completed.stderr


def test_an_old_or_missing_python_is_one_line_naming_the_version():
    completed = run_setup({**os.environ, "PYTHON": "no-such-python3"})
    assert completed.returncode == 1
    assert completed.stderr.strip() == "setup-runtime: Python 3.11 or newer is required, and no-such-python3 is not on PATH"


def test_the_runtime_environment_installs_the_image_requirements_with_their_hashes():
    script = SETUP.read_text()
    assert re.search(r"^venv venv images/mlflow/requirements\.txt test/runtime/requirements\.txt$", script, re.M)
    assert "--require-hashes" in script
    # What is installed is what the image's file pins.
    pinned = re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", (REPO_ROOT / "images/mlflow/requirements.txt").read_text(), re.M)
    assert len(pinned) > 50
    assert {name: metadata.version(name) for name, _ in pinned} == dict(pinned)


def normalized(name: str) -> str:
    """A distribution name as package indexes compare them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_drift_environment_installs_the_drift_report_image_requirements_alone_with_their_hashes():
    assert re.search(r"^venv drift images/drift-report/requirements\.txt$", SETUP.read_text(), re.M)
    pinned = re.findall(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", (REPO_ROOT / "images/drift-report/requirements.txt").read_text(), re.M)
    (site_packages,) = (REPO_ROOT / ".runtime" / "drift" / "lib").glob("python3.*/site-packages")
    installed = {normalized(dist.metadata["Name"]): dist.version for dist in metadata.distributions(path=[str(site_packages)])}
    # The packages venv itself brings are not the image's.
    assert {name: version for name, version in installed.items() if name not in {"pip", "setuptools"}} == {normalized(name): version for name, version in pinned}
    assert "mlflow" not in installed and installed["mlflow-skinny"] == metadata.version("mlflow")


def test_the_image_runs_the_python_minor_version_the_tier_runs():
    dockerfile = (REPO_ROOT / "images/mlflow/Dockerfile").read_text()
    (minor,) = re.findall(r"^FROM python:(\d+\.\d+)-", dockerfile, re.M)
    assert minor == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert Path(sys.executable).parent == REPO_ROOT / ".runtime" / "venv" / "bin"
