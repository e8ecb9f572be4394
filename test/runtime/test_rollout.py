"""`npm run rollout` against CloudWatch on loopback (moto): the gate reads the version alarms under
the names the serving stack gives them, and exits 0 only when every one exists and is OK.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from support.aws import ACCESS_KEY_ID, SECRET_ACCESS_KEY, MotoServer
from support.processes import REPO_ROOT

REGION = "eu-west-1"
KINDS = ["p95-latency", "p99-latency", "error-ratio", "no-healthy-targets"]
VERSIONS = ["v7", "v8"]
# <namePrefix>-<environment>-<model>: lib/config/alarm-names.ts.
PREFIX = "mlops-gate-fraud-scorer"

VERSION = {
    "alias": "champion",
    "imageTag": "1.0.0",
    "autoscaling": {"minReplicas": 2, "maxReplicas": 4},
    "podRequestsPerSecond": 50,
}
# A development environment with one model in two versions, the second a 10 % canary. JSON is YAML.
ENVIRONMENT = {
    "environmentType": "development",
    "account": "123456789012",
    "region": REGION,
    "availabilityZones": ["eu-west-1a", "eu-west-1b"],
    "cluster": {"addons": {"metrics-server": "v0.8.0-eksbuild.2"}},
    "mlflow": {"hostname": "mlflow.gate.example.internal"},
    "ingress": {"servingDomain": "models.gate.example.internal"},
    "teams": [
        {
            "name": "fraud",
            "quota": {"cpu": 64, "memoryGiB": 256, "pods": 100},
            "models": [
                {
                    "name": "fraud-scorer",
                    "registeredModel": "fraud-scorer",
                    "capacity": {"peakRequestsPerSecond": 100},
                    "versions": [{**VERSION, "name": name} for name in VERSIONS],
                    "traffic": {"weights": {"v7": 90, "v8": 10}},
                }
            ],
        }
    ],
}


@pytest.fixture(scope="module")
def moto(runtime_root):
    server = MotoServer(runtime_root / "rollout-moto")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def config_dir(runtime_root):
    folder = runtime_root / "rollout-config"
    folder.mkdir()
    (folder / "gate.yaml").write_text(json.dumps(ENVIRONMENT))
    return folder


@pytest.fixture
def cloudwatch(moto):
    client = moto.client("cloudwatch", REGION)
    yield client
    # Each test starts with no alarm.
    names = [alarm["AlarmName"] for alarm in client.describe_alarms()["MetricAlarms"]]
    if names:
        client.delete_alarms(AlarmNames=names)


def put_alarms(cloudwatch, state: str, **overrides: str) -> None:
    """Every version alarm, as the serving stack creates it, in `state` but for those `overrides` names."""
    for version in VERSIONS:
        for kind in KINDS:
            name = f"{PREFIX}-{version}-{kind}"
            cloudwatch.put_metric_alarm(
                AlarmName=name,
                Namespace="AWS/ApplicationELB",
                MetricName="HealthyHostCount",
                Statistic="Minimum",
                Period=60,
                EvaluationPeriods=5,
                DatapointsToAlarm=3,
                Threshold=1,
                ComparisonOperator="LessThanThreshold",
            )
            cloudwatch.set_alarm_state(AlarmName=name, StateValue=overrides.get(name, state), StateReason="runtime test")


def rollout(moto, config_dir, *args: str) -> subprocess.CompletedProcess:
    """The script as `npm run rollout` runs it, with the SDK pointed at moto and no other credentials in reach."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(config_dir),
        "AWS_ENDPOINT_URL": moto.url,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_CONFIG_FILE": str(config_dir / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(config_dir / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        [str(REPO_ROOT / "node_modules" / ".bin" / "tsx"), "scripts/rollout.ts", *args, "--config", str(config_dir)],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_gate_opens_when_every_version_alarm_is_ok(moto, config_dir, cloudwatch):
    put_alarms(cloudwatch, "OK")
    run = rollout(moto, config_dir, "gate", "fraud-scorer")
    assert (run.returncode, run.stderr) == (0, ""), run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[1] == "  split: v7 90 %, v8 10 %"
    assert lines[-1] == "gate: open, every version alarm is OK"


def test_the_gate_closes_on_a_version_alarm_in_alarm(moto, config_dir, cloudwatch):
    put_alarms(cloudwatch, "OK", **{f"{PREFIX}-v8-p99-latency": "ALARM"})
    run = rollout(moto, config_dir, "gate", "fraud-scorer")
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "gate: closed, v8 p99-latency is in ALARM"


def test_the_gate_closes_while_an_alarm_is_not_evaluated_yet(moto, config_dir, cloudwatch):
    put_alarms(cloudwatch, "OK", **{f"{PREFIX}-v7-error-ratio": "INSUFFICIENT_DATA"})
    run = rollout(moto, config_dir, "gate", "fraud-scorer")
    assert run.returncode == 1, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1].startswith("gate: closed, v7 error-ratio is not evaluated yet")


def test_the_gate_closes_when_the_alarms_do_not_exist(moto, config_dir, cloudwatch):
    run = rollout(moto, config_dir, "gate", "fraud-scorer")
    assert run.returncode == 1, run.stdout + run.stderr
    closed = run.stdout.splitlines()[-1]
    assert closed.startswith("gate: closed, v7 p95-latency does not exist")
    assert closed.count("does not exist") == len(VERSIONS) * len(KINDS)


def test_an_unknown_model_gets_one_line_and_exit_code_2(moto, config_dir, cloudwatch):
    run = rollout(moto, config_dir, "gate", "churn")
    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr.strip().startswith("rollout: no model churn in ")
    assert len(run.stderr.strip().splitlines()) == 1


def test_cloudwatch_out_of_reach_gets_one_line_and_exit_code_2(config_dir):
    unreachable = type("Unreachable", (), {"url": "http://127.0.0.1:9"})()
    run = rollout(unreachable, config_dir, "gate", "fraud-scorer")
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stdout == ""
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rollout: cannot read the alarms of fraud-scorer in gate (eu-west-1): "), lines
