"""The step of a model's drift report job, run by its CronJob (charts/lib/drift-report-cron-job.ts)
in the drift report image (images/drift-report).

``report`` reads the reference, either every file of an S3 folder (``DRIFT_REFERENCE``) or a file
or folder among the artifacts of the run that produced the version an alias of a registered model
points to (``DRIFT_REFERENCE_MODEL``, ``DRIFT_REFERENCE_ALIAS``, ``DRIFT_REFERENCE_ARTIFACT``),
downloaded through the MLflow server as the team's user, and every file of the current folder. It
compares the columns the two share with Evidently's data drift preset (a statistical test per
column) and takes the share of drifted columns as the verdict. It logs the HTML report and the
metrics to the team's MLflow experiment as the team's user, then publishes ``DriftShare`` (0-1),
which the drift alarm compares with the threshold, and ``Succeeded``, which the missed-run alarm
watches. A drifted dataset is a result, not a failure: the step exits 0 and the alarm does the
flagging.

Usage: python drift.py report; settings come from the environment (the manifest sets them).
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path
from typing import Mapping, Sequence

import steps
from steps import ConfigError, StepFailed, aws_client, download, list_input, parse_dimensions, parse_s3_folder, publish_metrics, require_env

LOG_PREFIX = "[drift]"
SHARE_METRIC = "DriftShare"
SUCCEEDED_METRIC = "Succeeded"
REPORT_FILE = "drift-report.html"
FORMATS = ("csv", "json", "parquet")
# The Evidently metric of the data drift preset that counts the drifted columns (evidently/metrics/column_statistics.py).
DRIFTED_COLUMNS_METRIC = "evidently:metric_v2:DriftedColumnsCount"

log = steps.logger(LOG_PREFIX)


def read_file(path: Path, file_format: str, source: str):
    """One file as a table; ``source`` names it in the error if it is not ``file_format``."""
    import pandas as pd

    try:
        if file_format == "csv":
            return pd.read_csv(path)
        if file_format == "json":
            return pd.read_json(path, lines=True)
        return pd.read_parquet(path)
    except Exception as error:  # noqa: BLE001 (pandas raises several kinds)
        raise StepFailed(f"{source} is not {file_format}: {type(error).__name__}: {error}") from None


def one_table(frames: list, where: str):
    import pandas as pd

    table = pd.concat(frames, ignore_index=True)
    if table.empty:
        raise StepFailed(f"the files {where} hold no rows: nothing to compare")
    return table


def read_folder(s3, name: str, uri: str, file_format: str, folder: Path):
    """Every file of ``uri`` (the setting ``name``) as one table, in key order."""
    bucket, prefix = parse_s3_folder(uri, name)
    objects = list_input(s3, bucket, prefix)
    if not objects:
        raise StepFailed(f"no files under {uri}: nothing to compare")
    folder.mkdir(parents=True, exist_ok=True)
    frames = []
    for index, item in enumerate(objects):
        path = download(s3, bucket, item["Key"], folder / f"part-{index}")
        try:
            frames.append(read_file(path, file_format, f"s3://{bucket}/{item['Key']}"))
        finally:
            path.unlink()
    return one_table(frames, f"under {uri}")


def read_model_artifact(model: str, alias: str, artifact: str, file_format: str, folder: Path):
    """The file, or every file of the folder in name order, ``artifact`` of the run that produced the
    version ``alias`` of ``model`` points to, as one table; with the version and the run id. The MLflow
    client resolves the alias and downloads through the server (proxied artifacts) as the team's user."""
    from mlflow import MlflowClient
    from mlflow.artifacts import download_artifacts

    try:
        version = MlflowClient().get_model_version_by_alias(model, alias)
    except Exception as error:  # noqa: BLE001 (the MLflow client raises several kinds)
        raise StepFailed(f"could not find the version of registered model {model!r} with alias {alias!r}: {type(error).__name__}: {error}") from None
    described = f"{model!r} version {version.version} (alias {alias!r})"
    if not version.run_id:
        raise StepFailed(f"{described} was registered from no run, so it has no artifact {artifact!r}: register the version from the run that logged it")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        local = Path(download_artifacts(run_id=version.run_id, artifact_path=artifact, dst_path=str(folder)))
    except Exception as error:  # noqa: BLE001
        raise StepFailed(f"could not download the artifact {artifact!r} of run {version.run_id} of {described}: {type(error).__name__}: {error}") from None
    files = [local] if local.is_file() else sorted(path for path in local.rglob("*") if path.is_file())
    files = [path for path in files if path.stat().st_size > 0]
    if not files:
        raise StepFailed(f"the artifact {artifact!r} of run {version.run_id} of {described} holds no files: nothing to compare")
    where = f"of the artifact {artifact!r} of run {version.run_id}"
    frames = []
    for path in files:
        try:
            frames.append(read_file(path, file_format, f"{path.relative_to(folder)} {where}"))
        finally:
            path.unlink()
    return one_table(frames, where), version.version, version.run_id


def read_reference(environ: Mapping[str, str], s3, file_format: str, folder: Path):
    """The reference table, how to name it, and the MLflow params that say where it came from."""
    uri = environ.get("DRIFT_REFERENCE", "").strip()
    model = environ.get("DRIFT_REFERENCE_MODEL", "").strip()
    if bool(uri) == bool(model):
        raise ConfigError("set either DRIFT_REFERENCE (an S3 folder) or DRIFT_REFERENCE_MODEL with DRIFT_REFERENCE_ALIAS and DRIFT_REFERENCE_ARTIFACT")
    if uri:
        return read_folder(s3, "DRIFT_REFERENCE", uri, file_format, folder), f"under {uri}", {"reference": uri}
    alias = require_env(environ, "DRIFT_REFERENCE_ALIAS")
    artifact = require_env(environ, "DRIFT_REFERENCE_ARTIFACT")
    table, version, run_id = read_model_artifact(model, alias, artifact, file_format, folder)
    return (
        table,
        f"of {artifact} of run {run_id} ({model}@{alias}, version {version})",
        {"reference": f"{artifact} of the run of {model}@{alias}", "reference_version": version, "reference_run_id": run_id},
    )


def compare(reference, current, report_path: Path) -> dict:
    """Evidently's data drift preset over the shared columns; the share and count of drifted ones."""
    from evidently import Report
    from evidently.presets import DataDriftPreset

    columns = [column for column in reference.columns if column in set(current.columns)]
    if not columns:
        raise StepFailed(f"the reference columns {list(reference.columns)} and the current columns {list(current.columns)} have none in common")
    snapshot = Report([DataDriftPreset()]).run(current_data=current[columns], reference_data=reference[columns])
    snapshot.save_html(str(report_path))
    (drifted,) = [metric["value"] for metric in snapshot.dict()["metrics"] if metric["config"]["type"] == DRIFTED_COLUMNS_METRIC]
    return {"share": float(drifted["share"]), "count": int(drifted["count"]), "columns": len(columns)}


def log_to_mlflow(experiment: str, model: str, result: dict, params: dict, report_path: Path) -> str:
    import mlflow

    try:
        mlflow.set_experiment(experiment)
        with mlflow.start_run(run_name=f"{model}-drift-{datetime.date.today().isoformat()}") as run:
            mlflow.log_params(params)
            mlflow.log_metrics({"drift_share": result["share"], "drifted_columns": result["count"], "compared_columns": result["columns"]})
            mlflow.set_tags({"model": model, "drift_detected": str(result["share"] > params["threshold"]).lower()})
            mlflow.log_artifact(str(report_path))
            return run.info.run_id
    except Exception as error:  # noqa: BLE001 (the MLflow client raises several kinds)
        raise StepFailed(f"could not log the report to the MLflow experiment {experiment!r}: {type(error).__name__}: {error}") from None


def report(environ: Mapping[str, str], s3=None, cloudwatch=None) -> None:
    current_uri = require_env(environ, "DRIFT_CURRENT")
    file_format = require_env(environ, "DRIFT_FORMAT")
    if file_format not in FORMATS:
        raise ConfigError(f"DRIFT_FORMAT must be one of {', '.join(FORMATS)}, got {file_format!r}")
    try:
        threshold = float(require_env(environ, "DRIFT_THRESHOLD"))
    except ValueError:
        raise ConfigError(f"DRIFT_THRESHOLD must be a number from 0 to 1, got {environ['DRIFT_THRESHOLD']!r}") from None
    if not 0 <= threshold <= 1:
        raise ConfigError(f"DRIFT_THRESHOLD must be a number from 0 to 1, got {threshold}")
    work = Path(require_env(environ, "DRIFT_WORK_DIR"))
    experiment = require_env(environ, "DRIFT_EXPERIMENT")
    model = require_env(environ, "DRIFT_MODEL")
    namespace = require_env(environ, "DRIFT_METRIC_NAMESPACE")
    dimensions = parse_dimensions(require_env(environ, "DRIFT_METRIC_DIMENSIONS"), "DRIFT_METRIC_DIMENSIONS")

    s3 = s3 or aws_client("s3", environ)
    reference, reference_name, reference_params = read_reference(environ, s3, file_format, work / "reference")
    current = read_folder(s3, "DRIFT_CURRENT", current_uri, file_format, work / "current")
    log(f"comparing {len(current)} rows under {current_uri} with {len(reference)} rows {reference_name}")

    report_path = work / REPORT_FILE
    result = compare(reference, current, report_path)
    verdict = "drift" if result["share"] > threshold else "no drift"
    log(f"{result['count']} of {result['columns']} columns drifted: share {result['share']:.4f}, threshold {threshold}: {verdict}")

    import evidently

    params = {**reference_params, "current": current_uri, "threshold": threshold, "evidently": evidently.__version__}
    run_id = log_to_mlflow(experiment, model, result, params, report_path)
    log(f"logged the report and the metrics to run {run_id} of the MLflow experiment {experiment!r}")

    cloudwatch = cloudwatch or aws_client("cloudwatch", environ)
    finished = datetime.datetime.now(datetime.timezone.utc)
    named = publish_metrics(cloudwatch, namespace, dimensions, finished, [(SHARE_METRIC, result["share"], "None"), (SUCCEEDED_METRIC, 1, "Count")])
    log(f"published {SHARE_METRIC}={result['share']:.4f} and {SUCCEEDED_METRIC}=1 to {namespace} ({named})")


COMMANDS = {"report": report}


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    return steps.main("drift.py", COMMANDS, argv, environ, log)


if __name__ == "__main__":
    sys.exit(main(sys.argv, os.environ))
