"""The model's drift report CronJob of the synthesized model stack, its two containers run as its
pod runs them (support/drift_job.py: the credentials step with the MLflow image's packages, the
report with the drift report image's alone), against the real MLflow server and the AWS emulator, as
the team's MLflow user: Evidently (the pinned version of the drift report image) compares the current
folder with the reference the manifest names; a dataset whose columns moved is flagged above the
threshold, one drawn from the same distributions passes; either way the HTML report and the
metrics land in the team's ``<team>/drift`` experiment and ``DriftShare`` in CloudWatch.

The reference is first the fixture's S3 folder, then, in the same environment synthesized with
``reference: {alias, artifactPath}``, the training data logged by the run of the version the alias
of the model's registered model points to, which the step downloads through the MLflow server.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from support.assembly import Assembly
from support.drift_job import DriftPod, drift_cron_job, pod_spec
from support.job_pod import metric_datapoints, step_env
from support.mlflow_server import run_client
from support.platform import synthesize
from support.team_accounts import MlflowRest, team_login

MODEL = "fraud-scorer"
ROWS = 800
FIXTURE = Path(__file__).parent / "fixtures" / "runtime.yaml"
# The registered-model form: a registered model of the test's own (the fixture's champion is served
# by other tests), whose champion's run logged the training data at reference/train.csv.
REFERENCE_MODEL = "fraud-drift-reference"
REFERENCE = {"alias": "champion", "artifactPath": "reference/train.csv"}


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
def artifact_assembly(platform, runtime_root) -> Assembly:
    """The fixture's environment with the model's registeredModel and drift reference changed to the
    registered-model form, synthesized; the same stacks and resources otherwise, which the session's
    platform stands in for."""
    config = yaml.safe_load(FIXTURE.read_text())
    (model,) = [entry for team in config["teams"] for entry in team.get("models", []) if entry["name"] == MODEL]
    model["registeredModel"] = REFERENCE_MODEL
    model["drift"]["reference"] = REFERENCE
    folder = runtime_root / "drift-artifact-reference"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / FIXTURE.name).write_text(yaml.safe_dump(config))
    assembly = synthesize(folder / "assembly", folder / "config")
    assembly.physical = platform.assembly.physical
    return assembly


@pytest.fixture(scope="module")
def artifact_cron_job(artifact_assembly) -> dict:
    return drift_cron_job(artifact_assembly, MODEL)


@pytest.fixture(scope="module")
def reference_version(mlflow, team_login, runtime_root) -> dict:
    """The team's training run: the reference sample logged as reference/train.csv and the model
    trained on it registered as a version of REFERENCE_MODEL with the alias, as the team's user."""
    home = runtime_root / "drift-reference-client"
    home.mkdir()
    training_data = home / Path(REFERENCE["artifactPath"]).name
    sample(seed=1).to_csv(training_data, index=False)
    arguments = {
        "experiment": "fraud/drift-reference",
        "registered_model": REFERENCE_MODEL,
        "alias": REFERENCE["alias"],
        "training_data": str(training_data),
        "artifact_folder": str(Path(REFERENCE["artifactPath"]).parent),
    }
    return run_client("reference_run.py", home, mlflow.url, team_login, arguments)


@pytest.fixture(scope="module", name="team_login")
def fraud_login(platform, mlflow) -> tuple[str, str]:
    return team_login(platform, mlflow, "drift-sync", "fraud")


@pytest.fixture(scope="module")
def s3(platform):
    return platform.aws.client("s3", platform.assembly.region)


@pytest.fixture(scope="module")
def admin(mlflow) -> MlflowRest:
    return MlflowRest(mlflow, mlflow.admin)


def run_pod(platform, mlflow, cron_job, s3, current: pd.DataFrame, assembly: Assembly | None = None, report_env: dict | None = None) -> list:
    """One pod; the reference folder, if the manifest names one, gets the reference sample first."""
    report = step_env(cron_job, "report")
    if "DRIFT_REFERENCE" in report:
        write_folder(s3, report["DRIFT_REFERENCE"], sample(seed=1))
    write_folder(s3, report["DRIFT_CURRENT"], current)
    env = {"report": {"MLFLOW_TRACKING_URI": mlflow.url, **(report_env or {})}}
    return DriftPod(platform, assembly or platform.assembly, cron_job, platform.pods_folder(), env).run()


def logs(runs) -> str:
    return "\n".join(f"--- {run.name} ({run.exit_code})\n{run.log}" for run in runs)


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
    return metric_datapoints(platform, cron_job, "report", "DRIFT", "DriftShare", 60, ["Minimum", "Maximum", "SampleCount"])


def test_the_manifest_compares_the_configured_folders_against_the_threshold_in_the_team_experiment(cron_job):
    report = step_env(cron_job, "report")
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
    report = step_env(cron_job, "report")
    bucket, prefix = split_s3(report["DRIFT_CURRENT"])
    before = sum(point["SampleCount"] for point in drift_share_points(platform, cron_job))
    write_folder(s3, report["DRIFT_REFERENCE"], sample(seed=1))
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=bucket, Key=item["Key"])
    runs = DriftPod(platform, platform.assembly, cron_job, platform.pods_folder(), {"report": {"MLFLOW_TRACKING_URI": mlflow.url}}).run()

    assert runs[-1].exit_code == 1
    assert f"[drift] failed: no files under {report['DRIFT_CURRENT']}: nothing to compare" in runs[-1].log
    assert sum(point["SampleCount"] for point in drift_share_points(platform, cron_job)) == before


def test_malformed_metric_dimensions_fail_the_run_in_one_line_naming_the_setting(platform, mlflow, cron_job, s3):
    runs = run_pod(platform, mlflow, cron_job, s3, sample(seed=3), report_env={"DRIFT_METRIC_DIMENSIONS": "Model"})

    assert runs[-1].exit_code == 2, logs(runs)
    assert "[drift] configuration error: DRIFT_METRIC_DIMENSIONS must be name=value pairs separated by commas, got 'Model'" in runs[-1].log


def test_the_artifact_form_names_the_models_registered_model_alias_and_artifact_instead_of_a_folder(artifact_cron_job):
    report = step_env(artifact_cron_job, "report")
    assert "DRIFT_REFERENCE" not in report
    assert (report["DRIFT_REFERENCE_MODEL"], report["DRIFT_REFERENCE_ALIAS"], report["DRIFT_REFERENCE_ARTIFACT"]) == (
        REFERENCE_MODEL,
        REFERENCE["alias"],
        REFERENCE["artifactPath"],
    )
    assert report["DRIFT_CURRENT"] == "s3://fraud-batch-input/daily/"


def test_a_shifted_dataset_is_flagged_against_the_champions_training_data_read_through_mlflow(
    platform, mlflow, artifact_assembly, artifact_cron_job, s3, team_login, admin, reference_version
):
    runs = run_pod(platform, mlflow, artifact_cron_job, s3, sample(seed=2, shift=2.0), artifact_assembly)

    assert [run.name for run in runs] == ["mlflow-credentials", "report"]
    assert all(run.exit_code == 0 for run in runs), logs(runs)
    assert team_login[1] not in "".join(run.log for run in runs)
    source = f"of {REFERENCE['artifactPath']} of run {reference_version['run_id']} ({REFERENCE_MODEL}@champion, version {reference_version['version']})"
    assert f"[drift] comparing {ROWS} rows under s3://fraud-batch-input/daily/ with {ROWS} rows {source}" in runs[-1].log, runs[-1].log
    assert verdict(runs).startswith("[drift] 2 of 4 columns drifted: share 0.5000, threshold 0.3: drift")
    run = latest_run(admin)
    params = {param["key"]: param["value"] for param in run["data"]["params"]}
    assert (params["reference_run_id"], params["reference_version"]) == (reference_version["run_id"], reference_version["version"])
    assert params["reference"] == f"{REFERENCE['artifactPath']} of the run of {REFERENCE_MODEL}@champion"
    assert {metric["key"]: metric["value"] for metric in run["data"]["metrics"]}["drift_share"] == 0.5
    assert run["info"]["user_id"] == team_login[0]
    assert max(point["Maximum"] for point in drift_share_points(platform, artifact_cron_job)) == 0.5


def test_an_unshifted_dataset_passes_against_the_champions_training_data(platform, mlflow, artifact_assembly, artifact_cron_job, s3, admin, reference_version):
    runs = run_pod(platform, mlflow, artifact_cron_job, s3, sample(seed=3), artifact_assembly)

    assert all(run.exit_code == 0 for run in runs), logs(runs)
    assert verdict(runs).startswith("[drift] 0 of 4 columns drifted: share 0.0000, threshold 0.3: no drift")
    run = latest_run(admin)
    assert {param["key"]: param["value"] for param in run["data"]["params"]}["reference_run_id"] == reference_version["run_id"]
    assert {tag["key"]: tag["value"] for tag in run["data"]["tags"]}["drift_detected"] == "false"


def test_an_alias_that_names_no_version_fails_the_run_in_one_line_and_publishes_nothing(platform, mlflow, artifact_assembly, artifact_cron_job, s3, reference_version):
    before = sum(point["SampleCount"] for point in drift_share_points(platform, artifact_cron_job))
    runs = run_pod(platform, mlflow, artifact_cron_job, s3, sample(seed=3), artifact_assembly, {"DRIFT_REFERENCE_ALIAS": "no-such-alias"})

    assert runs[-1].exit_code == 1, logs(runs)
    (failure,) = [line for line in runs[-1].log.splitlines() if line.startswith("[drift] failed:")]
    assert failure.startswith(f"[drift] failed: could not find the version of registered model '{REFERENCE_MODEL}' with alias 'no-such-alias': ")
    assert sum(point["SampleCount"] for point in drift_share_points(platform, artifact_cron_job)) == before
