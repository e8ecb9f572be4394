"""The model's training CronJob of the synthesized model stack, its four containers run as its pod
runs them (support/training_job.py), against the real MLflow server and the AWS emulator, as the
team's MLflow user the user sync Job made: the credentials step writes the team's login, a small
sklearn training (clients/train_model.py, the "team image") reads the daily files of the model's
training input folder with the pod's credentials and registers a version with alias
``challenger``, the promotion gate moves ``champion`` only when that version is better, and the
report step publishes the metric the missed-run alarm watches.

Each run registers versions of a registered model of its own rather than the fixture's
``fraud-scorer``, whose champion other tests serve; everything else is the manifest's.
"""

from __future__ import annotations

import io

import pytest
from sklearn.datasets import load_breast_cancer

from support.job_pod import metric_datapoints, step_env
from support.team_accounts import MlflowRest, team_login
from support.training_job import SKIP_CREDENTIALS_ANNOTATION, TrainingPod, pod_spec, training_cron_job

MODEL = "fraud-scorer"
TEST_MODEL = "fraud-training-gate"
# Training on the first two features only gives a clearly weaker classifier than on all thirty.
WEAK = {"features": 2}
STRONG = {}
# The input folder's first day of data; a test adds the rest as the next day's file.
FIRST_DAY_ROWS = 400


@pytest.fixture(scope="module")
def cron_job(platform) -> dict:
    return training_cron_job(platform.assembly, MODEL)


@pytest.fixture(scope="module", autouse=True)
def input_folder(platform, cron_job) -> tuple[str, str]:
    """The folder TRAINING_INPUT names, holding only its first day's file (rows with a ``target`` column)."""
    bucket, _, prefix = step_env(cron_job, "train")["TRAINING_INPUT"].removeprefix("s3://").partition("/")
    s3 = platform.aws.client("s3", platform.assembly.region)
    if bucket not in [entry["Name"] for entry in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    write_day(s3, bucket, f"{prefix}2026-11-01.csv", slice(0, FIRST_DAY_ROWS))
    return bucket, prefix


def write_day(s3, bucket: str, key: str, rows: slice) -> None:
    body = io.StringIO()
    load_breast_cancer(as_frame=True).frame.iloc[rows].to_csv(body, index=False)
    s3.put_object(Bucket=bucket, Key=key, Body=body.getvalue().encode())


@pytest.fixture(scope="module", name="team_login")
def fraud_login(platform, mlflow) -> tuple[str, str]:
    return team_login(platform, mlflow, "training-sync", "fraud")


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
    assert step_env(cron_job, "train")["MLFLOW_REGISTERED_MODEL_NAME"] == MODEL
    assert step_env(cron_job, "train")["MLFLOW_EXPERIMENT_NAME"] == "fraud/fraud-scorer"
    assert step_env(cron_job, "promote")["PROMOTION_EXPERIMENT"] == "fraud/promotions"
    assert step_env(cron_job, "promote")["PROMOTION_MIN_IMPROVEMENT"] == "0.01"
    assert cron_job["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 90 * 60
    assert pod_spec(cron_job)["containers"][0]["image"] == pod_spec(cron_job)["initContainers"][0]["image"]
    assert pod_spec(cron_job)["initContainers"][1]["image"].endswith("/models/fraud-scorer:train-2026.11.1")


def test_the_manifest_gives_the_team_code_its_input_folder_and_the_pods_credentials_and_the_gate_none(cron_job):
    assert step_env(cron_job, "train")["TRAINING_INPUT"] == "s3://fraud-batch-input/training/"
    assert step_env(cron_job, "train")["AWS_REGION"] == "eu-west-1"
    assert cron_job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["annotations"][SKIP_CREDENTIALS_ANNOTATION] == "promote"


def test_a_first_run_registers_a_challenger_that_becomes_champion_and_reports_success(platform, mlflow, cron_job, runtime_root, team_login, admin):
    runs = run_pod(platform, mlflow, cron_job, runtime_root, WEAK)

    assert [run.name for run in runs] == ["mlflow-credentials", "train", "promote", "report"]
    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert f"wrote the MLflow login of {team_login[0]}" in runs[0].log
    assert team_login[1] not in "".join(run.log for run in runs)
    assert aliases(admin) == {"champion": "1", "challenger": "1"}
    assert "promoted" in gate_line(runs) and "of experiment 'fraud/promotions'" in gate_line(runs)
    assert f"published Succeeded=1 to {step_env(cron_job, 'report')['BATCH_METRIC_NAMESPACE']} (Environment=" in runs[3].log

    # The team's user created the experiment and the model: it manages both.
    grants = {
        (row["resource_type"], row["resource_pattern"]): row["permission"]
        for row in admin.ok("GET", "/api/3.0/mlflow/users/permissions/list", params={"username": team_login[0]})["permissions"]
    }
    assert grants[("registered_model", TEST_MODEL)] == "MANAGE"

    points = metric_datapoints(platform, cron_job, "report", "BATCH", "Succeeded", 3600, ["Sum"])
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


def test_a_run_trains_on_every_daily_file_of_the_input_folder_and_more_data_makes_a_better_champion(platform, mlflow, cron_job, runtime_root, admin, input_folder):
    bucket, prefix = input_folder
    write_day(platform.aws.client("s3", platform.assembly.region), bucket, f"{prefix}2026-11-02.csv", slice(FIRST_DAY_ROWS, None))

    runs = run_pod(platform, mlflow, cron_job, runtime_root, STRONG)

    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert f"read 569 rows from 2 files of s3://{bucket}/{prefix}" in runs[1].log
    version = admin.ok("GET", "/api/2.0/mlflow/model-versions/get", params={"name": TEST_MODEL, "version": "4"})["model_version"]
    run = admin.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": version["run_id"]})["run"]
    params = {param["key"]: param["value"] for param in run["data"]["params"]}
    assert (params["input_files"], params["input_rows"]) == ("2", "569")
    # The same model on all 569 rows beats version 2, trained on the first day's 400, by more than minImprovement.
    assert aliases(admin) == {"champion": "4", "challenger": "4", "previous-champion": "2"}
