"""The model's drift report CronJob of the synthesized model stack, its two containers run as its
pod runs them (support/drift_job.py), against the real MLflow server and the AWS emulator, as the
team's MLflow user: Evidently (the pinned version of the MLflow image) compares the current folder
with the reference folder the manifest names; a dataset whose columns moved is flagged above the
threshold, one drawn from the same distributions passes; either way the HTML report and the
metrics land in the team's ``<team>/drift`` experiment and ``DriftShare`` in CloudWatch.
"""

from __future__ import annotations

import datetime
import io
import json

import numpy as np
import pandas as pd
import pytest

from support.drift_job import DriftPod, drift_cron_job, pod_spec
from support.team_accounts import MlflowRest, SyncRun, sync_container

MODEL = "fraud-scorer"
ROWS = 800


def env_of(cron_job: dict, name: str) -> dict[str, str]:
    spec = pod_spec(cron_job)
    (container,) = [step for step in [*spec["initContainers"], *spec["containers"]] if step["name"] == name]
    return {variable["name"]: variable["value"] for variable in container["env"]}


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


def sample(seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Four feature columns; ``shift`` moves the first two by that many standard deviations."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "amount": rng.normal(100, 20, ROWS) + shift * 20,
            "age": rng.normal(40, 10, ROWS) + shift * 10,
            "balance": rng.normal(5000, 1000, ROWS),
            "channel": rng.choice(["web", "app", "branch"], ROWS, p=[0.5, 0.4, 0.1]),
        }
    )


def write_folder(s3, uri: str, frame: pd.DataFrame) -> None:
    """Replaces the folder's files with ``frame`` in two CSV files, as a team's folder would hold."""
    bucket, prefix = split_s3(uri)
    if bucket not in [entry["Name"] for entry in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    half = len(frame) // 2
    for index, part in enumerate([frame.iloc[:half], frame.iloc[half:]]):
        body = io.StringIO()
        part.to_csv(body, index=False)
        s3.put_object(Bucket=bucket, Key=f"{prefix}part-{index}.csv", Body=body.getvalue().encode())


@pytest.fixture(scope="module")
def cron_job(platform) -> dict:
    return drift_cron_job(platform.assembly, MODEL)


@pytest.fixture(scope="module")
def team_login(platform, mlflow) -> tuple[str, str]:
    """The fraud team's user, made (or found) by a run of the user sync Job, and its login."""
    sync = SyncRun.run(platform, mlflow, "drift-sync")
    assert sync.exit_code == 0, sync.log
    teams = {team["team"]: team for team in json.loads(sync_container(platform).manifest_env()["MLFLOW_TEAMS"])}
    secret = platform.secret(teams["fraud"]["secretId"])
    return secret["username"], secret["password"]


@pytest.fixture(scope="module")
def s3(platform):
    return platform.aws.client("s3", platform.assembly.region)


@pytest.fixture(scope="module")
def admin(mlflow) -> MlflowRest:
    return MlflowRest(mlflow, mlflow.admin)


def run_pod(platform, mlflow, cron_job, s3, current: pd.DataFrame) -> list:
    report = env_of(cron_job, "report")
    write_folder(s3, report["DRIFT_REFERENCE"], sample(seed=1))
    write_folder(s3, report["DRIFT_CURRENT"], current)
    env = {"report": {"MLFLOW_TRACKING_URI": mlflow.url}}
    return DriftPod(platform, cron_job, platform.pods_folder(), env, {}).run()


def verdict(runs) -> str:
    (line,) = [line for line in runs[-1].log.splitlines() if "columns drifted" in line]
    return line


def latest_run(admin: MlflowRest) -> dict:
    experiment = admin.ok("GET", "/api/2.0/mlflow/experiments/get-by-name", params={"experiment_name": "fraud/drift"})["experiment"]
    (run,) = admin.ok(
        "POST", "/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment["experiment_id"]], "max_results": 1, "order_by": ["attributes.start_time DESC"]}
    )["runs"]
    return run


def drift_share_points(platform, cron_job) -> list[dict]:
    """The last hour's DriftShare datapoints of the model, per minute."""
    cloudwatch = platform.aws.client("cloudwatch", platform.assembly.region)
    dimensions = [dict(zip(("Name", "Value"), pair.split("="))) for pair in env_of(cron_job, "report")["DRIFT_METRIC_DIMENSIONS"].split(",")]
    now = datetime.datetime.now(datetime.timezone.utc)
    return cloudwatch.get_metric_statistics(
        Namespace="MLOpsPlatform/Drift",
        MetricName="DriftShare",
        Dimensions=dimensions,
        StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(minutes=5),
        Period=60,
        Statistics=["Minimum", "Maximum", "SampleCount"],
    )["Datapoints"]


def test_the_manifest_compares_the_configured_folders_against_the_threshold_in_the_team_experiment(cron_job):
    report = env_of(cron_job, "report")
    assert report["DRIFT_REFERENCE"] == "s3://fraud-batch-input/reference/"
    assert report["DRIFT_CURRENT"] == "s3://fraud-batch-input/daily/"
    assert report["DRIFT_THRESHOLD"] == "0.3"
    assert report["DRIFT_EXPERIMENT"] == "fraud/drift"
    assert report["DO_NOT_TRACK"] == "1"
    assert [step["name"] for step in pod_spec(cron_job)["initContainers"]] == ["mlflow-credentials"]


def test_a_shifted_dataset_is_flagged_above_the_threshold_and_reported(platform, mlflow, cron_job, s3, team_login, admin):
    runs = run_pod(platform, mlflow, cron_job, s3, sample(seed=2, shift=2.0))

    assert [run.name for run in runs] == ["mlflow-credentials", "report"]
    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert team_login[1] not in "".join(run.log for run in runs)
    assert verdict(runs).startswith("[drift] 2 of 4 columns drifted: share 0.5000, threshold 0.3: drift")
    run = latest_run(admin)
    assert {metric["key"]: metric["value"] for metric in run["data"]["metrics"]}["drift_share"] == 0.5
    assert {tag["key"]: tag["value"] for tag in run["data"]["tags"]}["drift_detected"] == "true"
    assert run["info"]["user_id"] == team_login[0]
    artifacts = admin.ok("GET", "/api/2.0/mlflow/artifacts/list", params={"run_id": run["info"]["run_id"]})["files"]
    assert [(entry["path"], entry["file_size"] > 100_000) for entry in artifacts] == [("drift-report.html", True)]
    assert max(point["Maximum"] for point in drift_share_points(platform, cron_job)) == 0.5


def test_an_unshifted_dataset_passes_below_the_threshold(platform, mlflow, cron_job, s3, team_login, admin):
    runs = run_pod(platform, mlflow, cron_job, s3, sample(seed=3))

    assert all(run.exit_code == 0 for run in runs), "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)
    assert verdict(runs).startswith("[drift] 0 of 4 columns drifted: share 0.0000, threshold 0.3: no drift")
    run = latest_run(admin)
    assert {metric["key"]: metric["value"] for metric in run["data"]["metrics"]}["drift_share"] == 0.0
    assert {tag["key"]: tag["value"] for tag in run["data"]["tags"]}["drift_detected"] == "false"
    assert min(point["Minimum"] for point in drift_share_points(platform, cron_job)) == 0.0


def test_a_missing_current_folder_fails_the_run_and_publishes_nothing(platform, mlflow, cron_job, s3):
    report = env_of(cron_job, "report")
    bucket, prefix = split_s3(report["DRIFT_CURRENT"])
    before = sum(point["SampleCount"] for point in drift_share_points(platform, cron_job))
    write_folder(s3, report["DRIFT_REFERENCE"], sample(seed=1))
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    runs = DriftPod(platform, cron_job, platform.pods_folder(), {"report": {"MLFLOW_TRACKING_URI": mlflow.url}}, {}).run()

    assert runs[-1].exit_code == 1
    assert f"[drift] failed: no files under {report['DRIFT_CURRENT']}: nothing to compare" in runs[-1].log
    assert sum(point["SampleCount"] for point in drift_share_points(platform, cron_job)) == before
