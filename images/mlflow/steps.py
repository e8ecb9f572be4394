"""What the platform's commands share: entrypoint.py and promotion.py, the batch job's batch.py and
the drift report's drift.py, which both images copy beside this file.

A command reads its settings from the environment the manifest sets, logs one line per event to
stderr under its own prefix, and exits 0 when done, 2 for wrong settings (``ConfigError``) and 1
when AWS, the database, MLflow or the input let it down (``StepFailed``). No message holds a secret.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Callable, Mapping, Sequence

Log = Callable[[str], None]
Command = Callable[[Mapping[str, str]], None]


class ConfigError(Exception):
    """The pod's settings are wrong; the message names which and never holds a secret."""


class StepFailed(Exception):
    """AWS, the database, MLflow or the input let the step down; the message says what and never holds a secret."""


def logger(prefix: str) -> Log:
    """A command's log: each message one line on stderr, after ``prefix``."""

    def log(message: str) -> None:
        print(f"{prefix} {message}", file=sys.stderr, flush=True)

    return log


def run(command: Command, environ: Mapping[str, str], log: Log) -> int:
    """Runs ``command`` and turns its error into one log line and the exit code."""
    try:
        command(environ)
    except ConfigError as error:
        log(f"configuration error: {error}")
        return 2
    except StepFailed as error:
        log(f"failed: {error}")
        return 1
    return 0


def main(script: str, commands: Mapping[str, Command], argv: Sequence[str], environ: Mapping[str, str], log: Log) -> int:
    """``python <script> <command>``: runs the one command ``argv`` names."""
    if len(argv) != 2 or argv[1] not in commands:
        log(f"usage: {script} {{{'|'.join(commands)}}}")
        return 2
    return run(commands[argv[1]], environ, log)


def require_env(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigError(f"missing required environment variable {name}")
    return value


# ---------------------------------------------------------------------------------------------
# AWS


def aws_client(service: str, environ: Mapping[str, str]):
    import boto3

    return boto3.client(service, region_name=require_env(environ, "AWS_REGION"))


def aws_error(error: Exception, what: str) -> StepFailed:
    from botocore.exceptions import ClientError

    if isinstance(error, ClientError):
        return StepFailed(f"{what}: {error.response.get('Error', {}).get('Code', 'unknown')}")
    return StepFailed(f"{what}: {type(error).__name__}")


def parse_s3_folder(uri: str, name: str) -> tuple[str, str]:
    """``s3://bucket/prefix/`` (the setting ``name``) as (bucket, prefix); the prefix ends with ``/``."""
    if not uri.startswith("s3://") or not uri.endswith("/") or "/" not in uri[len("s3://") :]:
        raise ConfigError(f"{name} must be an S3 folder such as s3://bucket/prefix/, got {uri!r}")
    bucket, _, prefix = uri[len("s3://") :].partition("/")
    return bucket, prefix


def list_input(s3, bucket: str, prefix: str) -> list[dict]:
    """The folder's files in key order, without folder placeholders and empty objects."""
    objects: list[dict] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            objects.extend(item for item in page.get("Contents", []) if not item["Key"].endswith("/") and item["Size"] > 0)
    except Exception as error:  # noqa: BLE001 (botocore raises several kinds)
        raise aws_error(error, f"could not list s3://{bucket}/{prefix}") from None
    return sorted(objects, key=lambda item: item["Key"])


def download(s3, bucket: str, key: str, destination: Path) -> Path:
    try:
        s3.download_file(bucket, key, str(destination))
    except Exception as error:  # noqa: BLE001
        raise aws_error(error, f"could not read s3://{bucket}/{key}") from None
    return destination


def parse_dimensions(value: str, name: str) -> list[dict]:
    """CloudWatch dimensions from ``name=value`` pairs separated by commas (the setting ``name``)."""
    dimensions = []
    for pair in value.split(","):
        key, _, content = pair.partition("=")
        if not key or not content:
            raise ConfigError(f"{name} must be name=value pairs separated by commas, got {value!r}")
        dimensions.append({"Name": key, "Value": content})
    return dimensions


def publish_metrics(cloudwatch, namespace: str, dimensions: list[dict], timestamp: datetime.datetime, metrics: Sequence[tuple[str, float, str]]) -> str:
    """Publishes each (name, value, unit) with the same dimensions and time; an error names the first
    metric, the one an alarm watches. Returns the dimensions as the log names them."""
    try:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {"MetricName": name, "Dimensions": dimensions, "Timestamp": timestamp, "Value": value, "Unit": unit}
                for name, value, unit in metrics
            ],
        )
    except Exception as error:  # noqa: BLE001
        raise aws_error(error, f"could not publish the {metrics[0][0]} metric to {namespace}") from None
    return ", ".join(f"{dimension['Name']}={dimension['Value']}" for dimension in dimensions)
