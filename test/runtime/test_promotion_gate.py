"""The promotion gate (`entrypoint.py promote`) run against the real MLflow server with basic auth
and PostgreSQL, as a non-admin user whose login comes from the MLflow client's credentials file
only, as a team's job gets it from its init step.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from mlflow.server.auth.client import AuthServiceClient
from mlflow.tracking import MlflowClient

ENTRYPOINT = Path(__file__).resolve().parents[2] / "images" / "mlflow" / "entrypoint.py"
METRIC = "val_auc"


class User:
    """One MLflow user, for setting things up in this process and for running the gate."""

    def __init__(self, mlflow, name: str, home: Path):
        self.mlflow = mlflow
        self.name = name
        self.password = f"{name}-Pa55word-for-tests"
        self.home = home
        credentials = home / ".mlflow" / "credentials"
        credentials.parent.mkdir(parents=True)
        credentials.write_text(f"[mlflow]\nmlflow_tracking_username = {name}\nmlflow_tracking_password = {self.password}\n")
        credentials.chmod(0o600)

    def session(self):
        return mock.patch.dict(
            os.environ, {"MLFLOW_TRACKING_USERNAME": self.name, "MLFLOW_TRACKING_PASSWORD": self.password}
        )

    def register(self, model: str, experiment: str, values: list[float]) -> list[str]:
        """A model with one version per value, each from a run that logged the metric."""
        with self.session():
            client = MlflowClient(self.mlflow.url, self.mlflow.url)
            experiment_id = client.create_experiment(experiment)
            client.create_registered_model(model)
            versions = []
            for value in values:
                run = client.create_run(experiment_id)
                client.log_metric(run.info.run_id, METRIC, value)
                client.set_terminated(run.info.run_id)
                versions.append(str(client.create_model_version(model, f"runs:/{run.info.run_id}/model", run.info.run_id).version))
            return versions

    def alias(self, model: str, alias: str, version: str) -> None:
        with self.session():
            MlflowClient(self.mlflow.url, self.mlflow.url).set_registered_model_alias(model, alias, version)

    def promote(self, model: str, **overrides: str) -> subprocess.CompletedProcess:
        """The gate in a clean process: the tracking URL and HOME, no login in the environment."""
        environment = {
            "PATH": os.environ["PATH"],
            "HOME": str(self.home),
            "PYTHONDONTWRITEBYTECODE": "1",
            "MLFLOW_TRACKING_URI": self.mlflow.url,
            "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
            "PROMOTION_REGISTERED_MODEL": model,
            "PROMOTION_METRIC": METRIC,
            "PROMOTION_DIRECTION": "max",
            "PROMOTION_MIN_IMPROVEMENT": "0.05",
            **overrides,
        }
        completed = subprocess.run(
            [sys.executable, str(ENTRYPOINT), "promote"], env=environment, capture_output=True, text=True, timeout=300
        )
        assert self.password not in completed.stdout + completed.stderr
        return completed


def gate_lines(completed: subprocess.CompletedProcess) -> list[str]:
    return [line for line in completed.stderr.splitlines() if line.startswith("[promotion]")]


@pytest.fixture(scope="module")
def users(mlflow, runtime_root) -> dict[str, User]:
    created = {name: User(mlflow, name, runtime_root / "promotion" / name) for name in ("gate-a", "gate-b")}
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_USERNAME": mlflow.admin[0], "MLFLOW_TRACKING_PASSWORD": mlflow.admin[1]}):
        auth = AuthServiceClient(mlflow.url)
        for user in created.values():
            auth.create_user(user.name, user.password)
    return created


def test_the_gate_promotes_a_better_challenger_with_the_login_from_the_credentials_file(mlflow, users):
    gate = users["gate-a"]
    old, new = gate.register("gate-scorer", "gate-a/training", [0.80, 0.90])
    gate.alias("gate-scorer", "champion", old)
    gate.alias("gate-scorer", "challenger", new)

    completed = gate.promote("gate-scorer")

    assert completed.returncode == 0, completed.stderr
    (line,) = gate_lines(completed)
    assert line.startswith("[promotion] gate-scorer: promoted: ")
    assert f"champion -> version {new}, previous-champion -> version {old}" in line
    with gate.session():
        client = MlflowClient(mlflow.url, mlflow.url)
        model = client.get_registered_model("gate-scorer")
        assert {alias: str(version) for alias, version in model.aliases.items()} == {
            "champion": new,
            "challenger": new,
            "previous-champion": old,
        }
        assert client.get_model_version("gate-scorer", old).tags["mlops.platform/promotion"] == "promoted"
        (decision,) = client.search_runs([client.get_experiment_by_name("promotions").experiment_id])
        assert decision.data.params["challenger_version"] == new
        assert decision.data.metrics["delta"] == pytest.approx(0.1)

    again = gate.promote("gate-scorer")

    assert again.returncode == 0, again.stderr
    assert gate_lines(again) == [f"[promotion] gate-scorer: no change: champion and challenger are both version {new}"]


def test_another_teams_user_cannot_record_in_a_shared_experiment_but_can_in_its_own(users):
    """Why team jobs set PROMOTION_EXPERIMENT=<team>/promotions: the first user to record created
    `promotions` and holds MANAGE on it; everyone else may only read it."""
    other = users["gate-b"]
    old, new = other.register("gate-other", "gate-b/training", [0.5, 0.4])
    other.alias("gate-other", "champion", old)
    other.alias("gate-other", "challenger", new)

    shared = other.promote("gate-other")

    assert shared.returncode == 1
    (line,) = gate_lines(shared)
    assert line.startswith("[promotion] failed: could not create a run in experiment 'promotions': PERMISSION_DENIED")

    own = other.promote("gate-other", PROMOTION_EXPERIMENT="gate-b/promotions")

    assert own.returncode == 0, own.stderr
    (line,) = gate_lines(own)
    assert line.startswith("[promotion] gate-other: kept: ") and "of experiment 'gate-b/promotions'" in line


def test_a_wrong_login_exits_1_with_one_line(users):
    gate = users["gate-a"]
    credentials = gate.home / ".mlflow" / "credentials"
    good = credentials.read_text()
    credentials.write_text(good.replace(gate.password, "not-the-password"))
    try:
        completed = gate.promote("gate-scorer")
    finally:
        credentials.write_text(good)

    assert completed.returncode == 1
    (line,) = gate_lines(completed)
    assert line.startswith("[promotion] failed: could not read registered model 'gate-scorer': ")
    assert "not-the-password" not in completed.stderr
