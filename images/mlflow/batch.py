"""Steps of a model's batch inference job, run by its CronJob (charts/lib/batch-inference-cron-job.ts).

``fetch`` lists every file of the team's input folder, joins them, in key order, into the one file
``mlflow models predict`` reads (CSV as CSV; JSON Lines and Parquet as MLflow scoring JSON), and
records what it read and the run date in ``run.json``. The model's own image then writes the
predictions. ``upload`` checks there is one prediction per input row, writes them to
``<output><run date>/predictions.json``, then the ``_SUCCESS`` marker naming exactly that object
version, then the ``Succeeded`` metric the missed-run alarm watches. A failed step stops the pod,
so a marker always describes a complete run.

``succeeded`` publishes that metric alone, as the last step of a model's training job
(charts/lib/training-cron-job.ts).

Usage: python batch.py {fetch|upload|succeeded}; settings come from the environment (the manifest sets them).
"""

from __future__ import annotations

import base64
import csv
import datetime
import decimal
import json
import os
import sys
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import steps
from steps import ConfigError, StepFailed, aws_client, aws_error, download, list_input, parse_dimensions, parse_s3_folder, publish_metrics, require_env

LOG_PREFIX = "[batch]"
RUN_FILE = "run.json"
PREDICTIONS_OBJECT = "predictions.json"
MARKER_OBJECT = "_SUCCESS"
SUCCEEDED_METRIC = "Succeeded"
ROWS_METRIC = "ScoredRows"
FORMATS = ("csv", "json", "parquet")

log = steps.logger(LOG_PREFIX)


# ---------------------------------------------------------------------------------------------
# fetch


def join_csv(parts: Iterator[tuple[str, Path]], output: Path) -> int:
    """One CSV with the shared header once. Rows go through the csv module, so quoted line breaks
    stay inside their field and every value keeps its exact text."""
    header: list[str] | None = None
    first_key = ""
    rows = 0
    with output.open("w", encoding="utf-8", newline="") as joined:
        writer = csv.writer(joined, lineterminator="\n")
        for key, path in parts:
            with path.open(encoding="utf-8-sig", newline="") as part:
                reader = csv.reader(part)
                own = next(reader, None)
                if own is None:
                    continue
                if header is None:
                    header, first_key = own, key
                    writer.writerow(header)
                elif own != header:
                    raise StepFailed(
                        f"{key} has the columns {own}, unlike {first_key}, which has {header}: "
                        "every CSV file of the input folder must have the same header row"
                    )
                for row in reader:
                    # pandas, which MLflow reads CSV with, skips blank lines too.
                    if row:
                        writer.writerow(row)
                        rows += 1
    return rows


def join_json_lines(parts: Iterator[tuple[str, Path]], output: Path) -> int:
    """One ``{"dataframe_records": [...]}`` document from JSON Lines files of record objects."""
    rows = 0
    with output.open("w", encoding="utf-8") as joined:
        joined.write('{"dataframe_records": [')
        for key, path in parts:
            with path.open(encoding="utf-8-sig") as part:
                for number, line in enumerate(part, start=1):
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError as error:
                        raise StepFailed(f"{key} line {number} is not JSON: {error}") from None
                    if not isinstance(record, dict):
                        raise StepFailed(f"{key} line {number} is a JSON {type(record).__name__}, not an object of column values")
                    joined.write((", " if rows else "") + json.dumps(record))
                    rows += 1
        joined.write("]}")
    return rows


def _json_value(value):
    """Values JSON has no type for, as MLflow's scoring JSON takes them."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise TypeError(f"a value of type {type(value).__name__} cannot be sent to the model")


def join_parquet(parts: Iterator[tuple[str, Path]], output: Path) -> int:
    """One ``{"dataframe_split": ...}`` document from Parquet files with one schema. Values go
    through Python's own types, so floats keep every digit."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = []
    first_key = ""
    for key, path in parts:
        try:
            table = pq.read_table(path)
        except (pa.ArrowException, OSError) as error:
            raise StepFailed(f"{key} is not a Parquet file: {error}") from None
        if tables and not table.schema.equals(tables[0].schema):
            raise StepFailed(f"{key} has the schema {table.schema.to_string()!r}, unlike {first_key}: every Parquet file of the input folder must have the same one")
        first_key = first_key or key
        tables.append(table)
    if not tables:
        return 0
    table = pa.concat_tables(tables)
    columns = [column.to_pylist() for column in table.columns]
    document = {"dataframe_split": {"columns": table.column_names, "data": [list(row) for row in zip(*columns)]}}
    try:
        with output.open("w", encoding="utf-8") as joined:
            json.dump(document, joined, default=_json_value)
    except TypeError as error:
        raise StepFailed(f"the Parquet input has a column MLflow cannot take: {error}") from None
    return table.num_rows


JOINERS: dict[str, Callable[[Iterator[tuple[str, Path]], Path], int]] = {
    "csv": join_csv,
    "json": join_json_lines,
    "parquet": join_parquet,
}


def run_date(time_zone: str, now: datetime.datetime | None = None) -> str:
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"BATCH_TIME_ZONE {time_zone!r} is not an IANA time zone this image knows") from None
    return (now or datetime.datetime.now(datetime.timezone.utc)).astimezone(zone).date().isoformat()


def fetch(environ: Mapping[str, str], s3=None) -> None:
    uri = require_env(environ, "BATCH_INPUT")
    bucket, prefix = parse_s3_folder(uri, "BATCH_INPUT")
    file_format = require_env(environ, "BATCH_FORMAT")
    if file_format not in FORMATS:
        raise ConfigError(f"BATCH_FORMAT must be one of {', '.join(FORMATS)}, got {file_format!r}")
    work = Path(require_env(environ, "BATCH_WORK_DIR"))
    predict_input = Path(require_env(environ, "BATCH_PREDICT_INPUT"))
    time_zone = require_env(environ, "BATCH_TIME_ZONE")
    started = datetime.datetime.now(datetime.timezone.utc)
    date = run_date(time_zone, started)

    s3 = s3 or aws_client("s3", environ)
    objects = list_input(s3, bucket, prefix)
    if not objects:
        raise StepFailed(f"no input files under {uri}: nothing to score, so this run writes no result")
    log(f"run of {date} ({time_zone}): {len(objects)} {file_format} files under {uri}, {sum(item['Size'] for item in objects)} bytes")

    parts = work / "parts"
    parts.mkdir(parents=True, exist_ok=True)

    def downloaded() -> Iterator[tuple[str, Path]]:
        # One file on disk at a time besides the joined input.
        for index, item in enumerate(objects):
            path = download(s3, bucket, item["Key"], parts / f"part-{index}")
            try:
                yield item["Key"], path
            finally:
                path.unlink()

    rows = JOINERS[file_format](downloaded(), predict_input)
    if rows == 0:
        raise StepFailed(f"the files under {uri} hold no rows: nothing to score, so this run writes no result")
    run = {
        "runDate": date,
        "timeZone": time_zone,
        "startedAt": started.isoformat(),
        "input": {
            "uri": uri,
            "format": file_format,
            "rows": rows,
            "objects": [{"key": item["Key"], "size": item["Size"], "etag": item["ETag"].strip('"')} for item in objects],
        },
    }
    (work / RUN_FILE).write_text(json.dumps(run, indent=2))
    log(f"joined {rows} rows into {predict_input} for the model")


# ---------------------------------------------------------------------------------------------
# upload


def read_run(work: Path) -> dict:
    try:
        return json.loads((work / RUN_FILE).read_text())
    except FileNotFoundError:
        raise StepFailed(f"{work / RUN_FILE} is missing: the fetch step did not finish") from None


def count_predictions(path: Path) -> int:
    try:
        with path.open(encoding="utf-8") as answer:
            document = json.load(answer)
    except FileNotFoundError:
        raise StepFailed(f"{path} is missing: the predict step wrote no predictions") from None
    except ValueError as error:
        raise StepFailed(f"{path} is not JSON: {error}") from None
    predictions = document.get("predictions") if isinstance(document, dict) else None
    if not isinstance(predictions, list):
        raise StepFailed(f'{path} holds no "predictions" list')
    return len(predictions)


def upload(environ: Mapping[str, str], s3=None, cloudwatch=None) -> None:
    bucket, prefix = parse_s3_folder(require_env(environ, "BATCH_OUTPUT"), "BATCH_OUTPUT")
    work = Path(require_env(environ, "BATCH_WORK_DIR"))
    predictions = Path(require_env(environ, "BATCH_PREDICTIONS"))
    namespace = require_env(environ, "BATCH_METRIC_NAMESPACE")
    dimensions = parse_dimensions(require_env(environ, "BATCH_METRIC_DIMENSIONS"), "BATCH_METRIC_DIMENSIONS")
    model_image = require_env(environ, "BATCH_MODEL_IMAGE")

    run = read_run(work)
    rows = run["input"]["rows"]
    answered = count_predictions(predictions)
    if answered != rows:
        raise StepFailed(f"the model answered {answered} predictions for {rows} input rows; nothing is written")

    folder = f"{prefix}{run['runDate']}/"
    s3 = s3 or aws_client("s3", environ)
    marker_key = f"{folder}{MARKER_OBJECT}"
    predictions_key = f"{folder}{PREDICTIONS_OBJECT}"
    try:
        # A run again on the same date (a retry, or one started by hand) withdraws the old marker
        # first: readers then see no complete result for the date rather than a marker describing
        # other predictions.
        existing = s3.list_objects_v2(Bucket=bucket, Prefix=marker_key).get("Contents", [])
        if any(item["Key"] == marker_key for item in existing):
            s3.delete_object(Bucket=bucket, Key=marker_key)
            log(f"withdrew the marker of an earlier run of {run['runDate']}")
        s3.upload_file(str(predictions), bucket, predictions_key, ExtraArgs={"ContentType": "application/json"})
        written = s3.head_object(Bucket=bucket, Key=predictions_key)
    except Exception as error:  # noqa: BLE001
        raise aws_error(error, f"could not write s3://{bucket}/{predictions_key}") from None
    log(f"wrote {answered} predictions to s3://{bucket}/{predictions_key}")

    finished = datetime.datetime.now(datetime.timezone.utc)
    marker = {
        "runDate": run["runDate"],
        "timeZone": run["timeZone"],
        "startedAt": run["startedAt"],
        "finishedAt": finished.isoformat(),
        "modelImage": model_image,
        "input": run["input"],
        "predictions": {
            "key": predictions_key,
            "versionId": written.get("VersionId"),
            "etag": written["ETag"].strip('"'),
            "rows": answered,
        },
    }
    try:
        s3.put_object(Bucket=bucket, Key=marker_key, Body=json.dumps(marker, indent=2).encode(), ContentType="application/json")
    except Exception as error:  # noqa: BLE001
        raise aws_error(error, f"could not write s3://{bucket}/{marker_key}") from None
    log(f"wrote the marker s3://{bucket}/{marker_key}")

    cloudwatch = cloudwatch or aws_client("cloudwatch", environ)
    named = publish_metrics(cloudwatch, namespace, dimensions, finished, [(SUCCEEDED_METRIC, 1, "Count"), (ROWS_METRIC, answered, "Count")])
    log(f"published {SUCCEEDED_METRIC}=1 to {namespace} ({named})")


def succeeded(environ: Mapping[str, str], cloudwatch=None) -> None:
    """The last step of another scheduled job (training): only the ``Succeeded`` metric its
    missed-run alarm watches, published once every step before it has exited 0."""
    namespace = require_env(environ, "BATCH_METRIC_NAMESPACE")
    dimensions = parse_dimensions(require_env(environ, "BATCH_METRIC_DIMENSIONS"), "BATCH_METRIC_DIMENSIONS")
    cloudwatch = cloudwatch or aws_client("cloudwatch", environ)
    finished = datetime.datetime.now(datetime.timezone.utc)
    named = publish_metrics(cloudwatch, namespace, dimensions, finished, [(SUCCEEDED_METRIC, 1, "Count")])
    log(f"published {SUCCEEDED_METRIC}=1 to {namespace} ({named})")


# ---------------------------------------------------------------------------------------------

COMMANDS = {"fetch": fetch, "upload": upload, "succeeded": succeeded}


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    return steps.main("batch.py", COMMANDS, argv, environ, log)


if __name__ == "__main__":
    sys.exit(main(sys.argv, os.environ))
