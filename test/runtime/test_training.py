"""The model's training CronJob of the synthesized model stack, its four containers run as its pod
runs them (support/training_job.py), against the real MLflow server and the AWS emulator, as the
team's MLflow user the user sync Job made: the credentials step writes the team's login, a small
sklearn training (clients/train_model.py, the "team image") registers a version with alias
``challenger``, the promotion gate moves ``champion`` only when that version is better, and the
report step publishes the metric the missed-run alarm watches.

Each run registers versions of a registered model of its own rather than the fixture's
``fraud-scorer``, whose champion other tests serve; everything else is the manifest's.
"""

from __future__ import annotations

import datetime
import json

import pytest

from support.team_accounts import MlflowRest, SyncRun, sync_container
from support.training_job import TrainingPod, pod_spec, training_cron_job

MODEL = "fraud-scorer"
TEST_MODEL = "fraud-training-gate"
# Training on the first two features only gives a clearly weaker classifier than on all thirty.
WEAK = {"features": 2}
STRONG = {}


def env_of(cron_job: dict, name: str) -> dict[str, str]:
    spec = pod_spec(cron_job)
    (container,) = [step for step in [*spec["initContainers"], *spec["containers"]] if step["name"] == name]
    return {variable["name"]: variable["value"] for variable in container["env"]}


@pytest.fixture(scope="module")
def cron_job(platform) -> dict:
    return training_cron_job(platform.assembly, MODEL)


@pytest.fixture(scope="module")
def team_login(platform, mlflow) -> tuple[str, str]:
    """The fraud team's user, made (or found) by a run of the user sync Job, and its login."""
    sync = SyncRun.run(platform, mlflow, "training-sync")
    assert sync.exit_code == 0, sync.log
    teams = {team["team"]: team for team in json.loads(sync_container(platform).manifest_env()["MLFLOW_TEAMS"])}
    secret = platform.secret(teams["fraud"]["secretId"])
    return secret["username"], secret["password"]


@pytest.fixture(scope="module")
def admin(mlflow) -> MlflowRest:
    return MlflowRest(mlflow, mlflow.admin)


def run_pod(platform, mlflow, cron_job, runtime_root, settings: dict) -> list:
    """One pod of the CronJob; the tracking URL of the load balancer stand-in, and the test's model."""
    env = {
        "train": {"MLFLOW_TRACKING_URI": mlflow.url, "MLFLOW_REGISTERED_MODEL_NAME": TEST_MODEL},
        "promote": {"MLFLOW_TRACKING_URI": mlflow.url, "PROMOTION_REGISTERED_MODEL": TEST_MODEL},
    }
    return TrainingPod(platform, cron_job, platform.pods_folder(), env, settings).run()


def aliases(admin: MlflowRest) -> dict[str, str]:
    model = admin.ok("GET", "/api/2.0/mlflow/registered-models/get", params={"name": TEST_MODEL})["registered_model"]
    return {entry["alias"]: entry["version"] for entry in model.get("aliases", [])}


def gate_line(runs) -> str:
    (line,) = [line for line in runs[2].log.splitlines() if line.startswith("[promotion]")]
    return line


def test_the_manifest_trains_the_models_registered_model_in_the_team_experiment_on_the_general_pool(cron_job, platform):
    assert env_of(cron_job, "train")["MLFLOW_REGISTERED_MODEL_NAME"] == MODEL
    assert env_of(cron_job, "train")["MLFLOW_EXPERIMENT_NAME"] == "fraud/fraud-scorer"
    assert env_of(cron_job, "promote")["PROMOTION_EXPERIMENT"] == "fraud/promotions"
    assert env_of(cron_job, "promote")["PROMOTION_MIN_IMPROVEMENT"] == "0.01"
    assert cron_job["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 90 * 60
    assert pod_spec(cron_job)["containers"][0]["image"] == pod_spec(cron_job)["initContainers"][0]["image"]
    assert pod_spec(cron_job)["initContainers"][1]["image"].endswith("/models/fraud-scorer:train-2026.11.1")


def test_a_first_run_registers_a_challenger_that_becomes_champion_and_reports_success(platform, mlflow, cron_job, runtime_root, team_login, admin):
    runs = run_pod(platform, mlflow, cron_job, runtime_root, WEAK)

    assert [run.name for run in runs] == ["mlflow-credentials", "train", "promote", "report"]
    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert f"wrote the MLflow login of {team_login[0]}" in runs[0].log
    assert team_login[1] not in "".join(run.log for run in runs)
    assert aliases(admin) == {"champion": "1", "challenger": "1"}
    assert "promoted" in gate_line(runs) and "of experiment 'fraud/promotions'" in gate_line(runs)
    assert "published Succeeded=1 to MLOpsPlatform/Training (Environment=" in runs[3].log

    # The team's user created the experiment and the model: it manages both.
    grants = {
        (row["resource_type"], row["resource_pattern"]): row["permission"]
        for row in admin.ok("GET", "/api/3.0/mlflow/users/permissions/list", params={"username": team_login[0]})["permissions"]
    }
    assert grants[("registered_model", TEST_MODEL)] == "MANAGE"

    cloudwatch = platform.aws.client("cloudwatch", platform.assembly.region)
    dimensions = [dict(zip(("Name", "Value"), pair.split("="))) for pair in env_of(cron_job, "report")["BATCH_METRIC_DIMENSIONS"].split(",")]
    now = datetime.datetime.now(datetime.timezone.utc)
    points = cloudwatch.get_metric_statistics(
        Namespace="MLOpsPlatform/Training",
        MetricName="Succeeded",
        Dimensions=dimensions,
        StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(minutes=5),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(point["Sum"] for point in points) >= 1


def test_a_better_model_moves_champion_and_the_old_one_becomes_previous_champion(platform, mlflow, cron_job, runtime_root, admin):
    runs = run_pod(platform, mlflow, cron_job, runtime_root, STRONG)

    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert aliases(admin) == {"champion": "2", "challenger": "2", "previous-champion": "1"}
    assert gate_line(runs).startswith(f"[promotion] {TEST_MODEL}: promoted: challenger version 2 val_auc=")


def test_a_worse_model_is_registered_as_challenger_and_champion_stays(platform, mlflow, cron_job, runtime_root, admin):
    runs = run_pod(platform, mlflow, cron_job, runtime_root, WEAK)

    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert aliases(admin) == {"champion": "2", "challenger": "3", "previous-champion": "1"}
    assert gate_line(runs).startswith(f"[promotion] {TEST_MODEL}: kept: challenger version 3 val_auc=")


def test_a_failed_training_stops_the_pod_before_the_gate_and_reports_nothing(platform, mlflow, cron_job, runtime_root, admin):
    runs = run_pod(platform, mlflow, cron_job, runtime_root, {"features": "not-a-number"})

    assert [run.name for run in runs] == ["mlflow-credentials", "train"]
    assert runs[1].exit_code != 0
    assert aliases(admin) == {"champion": "2", "challenger": "3", "previous-champion": "1"}
