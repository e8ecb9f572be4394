"""A model Deployment of the Serving stack, run with the command, args and environment of the
synthesized manifest against the model a data scientist registered in the real MLflow server.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
import requests

from support.mlflow_server import lay_out_model
from support.model_server import ModelPod, container_port, model_container

MODEL = "fraud-scorer"
# The primary version.
VERSION = "v1"


@pytest.fixture(scope="module")
def model_folder(mlflow, registered_model, runtime_root):
    return lay_out_model(mlflow, registered_model, runtime_root / "model-image" / "model", runtime_root / "builder")


@pytest.fixture(scope="module")
def pod(platform, model_folder, runtime_root):
    scratch_root = runtime_root / "model-pods"
    scratch_root.mkdir(exist_ok=True)
    scratch_root.chmod(0o755)
    started = ModelPod(model_container(platform.assembly, MODEL, VERSION), model_folder, scratch_root)
    try:
        started.wait_started()
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def sample(registered_model) -> pd.DataFrame:
    split = registered_model["sample"]
    return pd.DataFrame(split["data"], columns=split["columns"], index=split["index"])


@pytest.fixture(scope="module")
def expected(model_folder, sample) -> list:
    import mlflow

    return mlflow.pyfunc.load_model(str(model_folder)).predict(sample).tolist()


def test_the_manifest_declares_the_port_the_command_listens_on_and_probes_it(platform):
    assert container_port(model_container(platform.assembly, MODEL, VERSION)) > 0


def test_the_pod_runs_as_a_non_root_user_on_a_read_only_root(platform):
    container = model_container(platform.assembly, MODEL, VERSION)
    assert container.user[0] != 0
    assert container.read_only_root


def test_readiness_and_liveness_answer_once_started(pod):
    for probe in ("readinessProbe", "livenessProbe"):
        assert requests.get(f"{pod.url}{pod.probe_path(probe)}", timeout=5).status_code == 200


def test_the_load_balancer_health_check_of_each_version_passes_on_the_scoring_server(platform, pod):
    """Each version's target group checks what the scoring server answers once the model is loaded."""
    stack = platform.assembly.stack(f"Model-{MODEL}")
    groups = [properties for _, properties in stack.resources("AWS::ElasticLoadBalancingV2::TargetGroup")]
    assert groups, "the model stack has no target group"
    for group in groups:
        port = container_port(model_container(platform.assembly, MODEL, VERSION))
        assert (group["TargetType"], group["Protocol"], group["Port"]) == ("ip", "HTTP", port)
        response = requests.get(f"{pod.url}{group['HealthCheckPath']}", timeout=group["HealthCheckTimeoutSeconds"])
        assert str(response.status_code) == group["Matcher"]["HttpCode"]


def test_json_dataframe_split_predictions_equal_the_models_own(pod, sample, expected):
    body = {"dataframe_split": sample.to_dict(orient="split")}
    response = requests.post(f"{pod.url}/invocations", json=body, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == expected


def test_csv_predictions_equal_the_models_own(pod, sample, expected):
    buffer = io.StringIO()
    sample.to_csv(buffer, index=False)
    response = requests.post(
        f"{pod.url}/invocations", data=buffer.getvalue(), headers={"Content-Type": "text/csv"}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == expected


def test_a_malformed_request_gets_a_client_error_and_the_pod_keeps_serving(pod, sample, expected):
    response = requests.post(f"{pod.url}/invocations", json={"not": "a dataframe"}, timeout=30)
    assert 400 <= response.status_code < 500
    again = requests.post(f"{pod.url}/invocations", json={"dataframe_split": sample.to_dict(orient="split")}, timeout=30)
    assert again.json()["predictions"] == expected
