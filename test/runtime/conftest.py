"""Session fixtures of the runtime tier: one synthesized environment, the platform it runs on,
its migrated database, its MLflow server behind a load balancer stand-in, and a registered model.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.assembly import Assembly  # noqa: E402
from support.mlflow_server import MlflowDeployment, MigrationRun, run_data_scientist  # noqa: E402
from support.platform import Platform, synthesize  # noqa: E402
from support.processes import ManagedProcess  # noqa: E402

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_sessionfinish(session, exitstatus):
    # Fixtures stop what they started; this ends what a fixture that failed half-way left running.
    ManagedProcess.stop_all()


@pytest.fixture(scope="session")
def runtime_root():
    root = Path(tempfile.mkdtemp(prefix="mlops-runtime-"))
    # Servers run as other users and must reach their folders below this one.
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def assembly(runtime_root) -> Assembly:
    return synthesize(runtime_root / "assembly", FIXTURES)


@pytest.fixture(scope="session")
def platform(runtime_root, assembly):
    started = Platform.start(runtime_root / "platform", assembly)
    yield started
    started.stop()


@pytest.fixture(scope="session")
def first_migrations(platform) -> list[MigrationRun]:
    """Two migration Jobs started at once on the empty database, as a retried Job can."""
    return MigrationRun.concurrently(platform, ["migrate-a", "migrate-b"])


@pytest.fixture(scope="session")
def mlflow(platform, first_migrations):
    assert all(run.exit_code == 0 for run in first_migrations), "\n".join(run.log for run in first_migrations)
    deployment = MlflowDeployment(platform)
    try:
        deployment.start_pod("server-1")
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture(scope="session")
def registered_model(mlflow, runtime_root) -> dict:
    """A data scientist's run, logged model and champion alias, made with the MLflow client."""
    return run_data_scientist(mlflow, runtime_root / "scientist")
