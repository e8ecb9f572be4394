"""The model's batch inference CronJob of the synthesized model stack, its three containers run as
its pod runs them (support/batch_job.py), against the AWS emulator and the model a data scientist
registered in the real MLflow server: fetch joins the input folder's files, the model's own
``mlflow models predict`` scores them, upload writes the predictions, then the marker, then the
metric the missed-run alarm watches.
"""

from __future__ import annotations

import datetime
import io
import json
import re
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from support.batch_job import BatchPod, batch_cron_job
from support.job_pod import metric_datapoints, step_env, step_spec
from support.mlflow_server import lay_out_model

MODEL = "fraud-scorer"
# The chart hands JSON Lines and Parquet to the model as MLflow scoring JSON
# (charts/lib/batch-inference-cron-job.ts, PREDICT_INPUTS); the fixture's job reads CSV.
JSON_INPUT = "/tmp/batch/input.json"


def split_s3(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    return bucket, prefix


@pytest.fixture(scope="module")
def model_folder(mlflow, registered_model, runtime_root):
    return lay_out_model(mlflow, registered_model, runtime_root / "batch-model-image" / "model", runtime_root / "batch-builder")


@pytest.fixture(scope="module")
def cron_job(platform) -> dict:
    return batch_cron_job(platform.assembly, MODEL)


@pytest.fixture(scope="module")
def s3(platform):
    return platform.aws.client("s3", platform.assembly.region)


@pytest.fixture(scope="module")
def sample(registered_model) -> pd.DataFrame:
    split = registered_model["sample"]
    return pd.DataFrame(split["data"], columns=split["columns"])


@pytest.fixture(scope="module")
def expected(model_folder, sample) -> list:
    import mlflow

    return mlflow.pyfunc.load_model(str(model_folder)).predict(sample).tolist()


@pytest.fixture(scope="module")
def pods_root(runtime_root):
    root = runtime_root / "batch-pods"
    root.mkdir()
    root.chmod(0o755)
    return root


def empty(s3, bucket: str, prefix: str) -> None:
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])


@pytest.fixture
def folders(s3, cron_job):
    """The input and output folders the manifest names, empty; the artifact bucket versioned, as its template makes it."""
    input_bucket, input_prefix = split_s3(step_env(cron_job, "fetch")["BATCH_INPUT"])
    output_bucket, output_prefix = split_s3(step_env(cron_job, "upload")["BATCH_OUTPUT"])
    if input_bucket not in [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=input_bucket, CreateBucketConfiguration={"LocationConstraint": s3.meta.region_name})
    s3.put_bucket_versioning(Bucket=output_bucket, VersioningConfiguration={"Status": "Enabled"})
    empty(s3, input_bucket, input_prefix)
    empty(s3, output_bucket, output_prefix)
    return {"input": (input_bucket, input_prefix), "output": (output_bucket, output_prefix)}


def run_folder(cron_job: dict, output_prefix: str) -> str:
    """`predictions/<model>/<date>/`, the date of today in the job's time zone."""
    zone = ZoneInfo(step_env(cron_job, "fetch")["BATCH_TIME_ZONE"])
    return f"{output_prefix}{datetime.datetime.now(zone).date().isoformat()}/"


def keys(s3, bucket: str, prefix: str) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []))


def succeeded(platform, cron_job: dict) -> float:
    return sum(point["Sum"] for point in metric_datapoints(platform, cron_job, "upload", "BATCH", "Succeeded", 3600, ["Sum"]))


def s3_writes(platform, bucket: str, since: int) -> list[str]:
    """`<METHOD> <key>` of each write to ``bucket`` the emulator logged after byte ``since`` of its log."""
    # The emulator's request log colours some methods with terminal escapes.
    log = re.sub(r"\x1b\[[0-9;]*m", "", (platform.root / "aws" / "moto.log").read_text(errors="replace")[since:])
    pattern = re.compile(rf'"(PUT|DELETE|POST) /{re.escape(bucket)}/([^ ?"]+)[^"]*" 2\d\d')
    return [f"{method} {key}" for method, key in pattern.findall(log)]


def moto_log_size(platform) -> int:
    return len((platform.root / "aws" / "moto.log").read_text(errors="replace"))


def put_csv(s3, bucket: str, key: str, frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue().encode())


def report(runs) -> str:
    return "\n".join(f"--- {run.name} exited {run.exit_code}\n{run.log[-3000:]}" for run in runs)


def test_a_run_scores_every_input_file_with_the_models_own_answers_and_writes_the_marker_last(
    platform, cron_job, model_folder, pods_root, s3, folders, sample, expected
):
    input_bucket, input_prefix = folders["input"]
    output_bucket, output_prefix = folders["output"]
    # Two files and the empty placeholder the S3 console makes for a folder.
    s3.put_object(Bucket=input_bucket, Key=input_prefix, Body=b"")
    put_csv(s3, input_bucket, f"{input_prefix}part-0.csv", sample.iloc[:12])
    put_csv(s3, input_bucket, f"{input_prefix}part-1.csv", sample.iloc[12:])
    before, log_start = succeeded(platform, cron_job), moto_log_size(platform)

    runs = BatchPod(platform, cron_job, model_folder, pods_root).run()
    print(report(runs))

    assert [(run.name, run.exit_code) for run in runs] == [("fetch", 0), ("predict", 0), ("upload", 0)], report(runs)
    folder = run_folder(cron_job, output_prefix)
    assert keys(s3, output_bucket, output_prefix) == [f"{folder}_SUCCESS", f"{folder}predictions.json"]
    predictions = json.loads(s3.get_object(Bucket=output_bucket, Key=f"{folder}predictions.json")["Body"].read())
    assert predictions == {"predictions": expected}
    marker = json.loads(s3.get_object(Bucket=output_bucket, Key=f"{folder}_SUCCESS")["Body"].read())
    assert marker["input"]["rows"] == len(sample) == marker["predictions"]["rows"]
    assert [item["key"] for item in marker["input"]["objects"]] == [f"{input_prefix}part-0.csv", f"{input_prefix}part-1.csv"]
    # The marker names the very version of the predictions it vouches for.
    named = s3.get_object(Bucket=output_bucket, Key=marker["predictions"]["key"], VersionId=marker["predictions"]["versionId"])
    assert json.loads(named["Body"].read()) == predictions
    assert s3_writes(platform, output_bucket, log_start) == [f"PUT {folder}predictions.json", f"PUT {folder}_SUCCESS"]
    assert succeeded(platform, cron_job) == before + 1


@pytest.mark.parametrize("file_format", ["json", "parquet"])
def test_json_lines_and_parquet_input_get_the_same_predictions_as_csv(
    platform, cron_job, model_folder, pods_root, s3, folders, sample, expected, file_format
):
    input_bucket, input_prefix = folders["input"]
    output_bucket, output_prefix = folders["output"]
    for index, part in enumerate([sample.iloc[:7], sample.iloc[7:]]):
        key = f"{input_prefix}part-{index}.{file_format}"
        if file_format == "json":
            body = "".join(json.dumps(record) + "\n" for record in part.to_dict(orient="records")).encode()
        else:
            buffer = io.BytesIO()
            part.to_parquet(buffer, index=False)
            body = buffer.getvalue()
        s3.put_object(Bucket=input_bucket, Key=key, Body=body)
    predict_args = list(step_spec(cron_job, "predict")["args"])
    predict_args[predict_args.index("--content-type") + 1] = "json"
    predict_args[predict_args.index("--input-path") + 1] = JSON_INPUT

    runs = BatchPod(
        platform,
        cron_job,
        model_folder,
        pods_root,
        env={"fetch": {"BATCH_FORMAT": file_format, "BATCH_PREDICT_INPUT": JSON_INPUT}},
        args={"predict": predict_args},
    ).run()

    assert [run.exit_code for run in runs] == [0, 0, 0], report(runs)
    folder = run_folder(cron_job, output_prefix)
    predictions = json.loads(s3.get_object(Bucket=output_bucket, Key=f"{folder}predictions.json")["Body"].read())
    assert predictions == {"predictions": expected}


def test_a_failing_model_stops_the_pod_before_the_upload_and_no_marker_is_written(
    platform, cron_job, model_folder, pods_root, s3, folders, sample
):
    input_bucket, input_prefix = folders["input"]
    output_bucket, output_prefix = folders["output"]
    # The model's signature needs every feature; without one, MLflow refuses the input.
    put_csv(s3, input_bucket, f"{input_prefix}part-0.csv", sample.drop(columns=sample.columns[-1]))
    before = succeeded(platform, cron_job)
    pod = BatchPod(platform, cron_job, model_folder, pods_root)

    runs = pod.run()

    assert [(run.name, run.exit_code != 0) for run in runs] == [("fetch", False), ("predict", True)], report(runs)
    assert keys(s3, output_bucket, output_prefix) == []
    assert succeeded(platform, cron_job) == before
    # Were the upload started all the same, it would find no predictions and write nothing.
    upload = pod.run_step(step_spec(cron_job, "upload"))
    assert upload.exit_code == 1, upload.log
    assert "the predict step wrote no predictions" in upload.log
    assert keys(s3, output_bucket, output_prefix) == []


def test_an_empty_input_folder_fails_the_run_at_the_fetch_and_no_marker_is_written(platform, cron_job, model_folder, pods_root, s3, folders):
    output_bucket, output_prefix = folders["output"]

    runs = BatchPod(platform, cron_job, model_folder, pods_root).run()

    assert [(run.name, run.exit_code) for run in runs] == [("fetch", 1)], report(runs)
    assert "no input files under s3://" in runs[0].log
    assert keys(s3, output_bucket, output_prefix) == []


def test_a_second_run_of_the_same_date_withdraws_the_first_marker_before_replacing_the_predictions(
    platform, cron_job, model_folder, pods_root, s3, folders, sample
):
    input_bucket, input_prefix = folders["input"]
    output_bucket, output_prefix = folders["output"]
    put_csv(s3, input_bucket, f"{input_prefix}part-0.csv", sample)
    assert [run.exit_code for run in BatchPod(platform, cron_job, model_folder, pods_root).run()] == [0, 0, 0]
    folder = run_folder(cron_job, output_prefix)
    log_start = moto_log_size(platform)

    runs = BatchPod(platform, cron_job, model_folder, pods_root).run()

    assert [run.exit_code for run in runs] == [0, 0, 0], report(runs)
    assert s3_writes(platform, output_bucket, log_start) == [
        f"DELETE {folder}_SUCCESS",
        f"PUT {folder}predictions.json",
        f"PUT {folder}_SUCCESS",
    ]
    marker = json.loads(s3.get_object(Bucket=output_bucket, Key=f"{folder}_SUCCESS")["Body"].read())
    latest = s3.head_object(Bucket=output_bucket, Key=f"{folder}predictions.json")
    assert marker["predictions"]["versionId"] == latest["VersionId"]
