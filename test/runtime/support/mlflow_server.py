"""The MLflow stack's pods, run from the synthesized manifests: the migration Job and the server
Deployment behind a load balancer stand-in, and a data scientist using the MLflow client.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from .load_balancer import LoadBalancer
from .platform import Platform
from .pod import Container
from .processes import ManagedProcess, free_port, wait_for_http

MIGRATION_TIMEOUT_SECONDS = 300

# Scripts a user runs with the MLflow client, each in a clean process.
CLIENTS = Path(__file__).resolve().parents[1] / "clients"


def migration_container(platform: Platform) -> Container:
    return platform.mlflow_container("Job", r"mlflow-migrate-.+")


def server_container(platform: Platform) -> Container:
    return platform.mlflow_container("Deployment", "mlflow")


def probe_path(container: Container, probe: str) -> str:
    """The HTTP path of a probe, which must use the container's one named port."""
    http_get = container.spec[probe]["httpGet"]
    (port,) = [port for port in container.spec["ports"] if port["name"] == http_get["port"]]
    assert port["containerPort"] == int(container.manifest_env()["MLFLOW_PORT"]), "the probe port is not the server's"
    return http_get["path"]


@dataclass
class MigrationRun:
    name: str
    exit_code: int
    log: str

    @classmethod
    def run(cls, platform: Platform, name: str, overrides: dict | None = None) -> "MigrationRun":
        process = platform.run_mlflow(migration_container(platform), name, overrides)
        try:
            exit_code = process.wait(MIGRATION_TIMEOUT_SECONDS)
        finally:
            process.stop()
        return cls(name, exit_code, process.log())

    @classmethod
    def concurrently(cls, platform: Platform, names: list[str]) -> list["MigrationRun"]:
        results: dict[str, MigrationRun] = {}

        def one(name: str) -> None:
            results[name] = cls.run(platform, name)

        threads = [threading.Thread(target=one, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [results[name] for name in names]


class MlflowDeployment:
    """Server pods of the Deployment, each on its own port, and one load balancer in front."""

    def __init__(self, platform: Platform):
        self.platform = platform
        self.container = server_container(platform)
        env = self.container.manifest_env()
        self.hostname = env["MLFLOW_ALLOWED_HOSTS"].split(",")[0]
        self.pods: dict[str, tuple[ManagedProcess, int]] = {}
        self.load_balancer: LoadBalancer | None = None
        admin = platform.secret(env["MLFLOW_ADMIN_SECRET_ID"])
        self.admin = (admin["username"], admin["password"])

    def start_pod(self, name: str, overrides: dict | None = None, startup_timeout: float = 180) -> int:
        port = free_port()
        process = self.platform.run_mlflow(self.container, name, {"MLFLOW_PORT": str(port), **(overrides or {})})
        self.pods[name] = (process, port)
        # As the kubelet's startup probe: until /health answers, nothing else is sent.
        wait_for_http(f"http://127.0.0.1:{port}{probe_path(self.container, 'startupProbe')}", process, startup_timeout)
        if self.load_balancer is None:
            self.load_balancer = LoadBalancer(self.hostname, port)
        return port

    def stop_pod(self, name: str) -> ManagedProcess:
        process, _ = self.pods.pop(name)
        process.stop()
        return process

    def route_to(self, name: str) -> None:
        self.load_balancer.upstream_port = self.pods[name][1]

    def port(self, name: str) -> int:
        return self.pods[name][1]

    @property
    def url(self) -> str:
        return self.load_balancer.url

    def stop(self) -> None:
        for name in list(self.pods):
            self.stop_pod(name)
        if self.load_balancer is not None:
            self.load_balancer.stop()


def client_environment(home: Path, tracking_uri: str, username: str, password: str) -> dict[str, str]:
    """A laptop's environment: the MLflow URL and login, and nothing of AWS."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_TRACKING_USERNAME": username,
        "MLFLOW_TRACKING_PASSWORD": password,
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def run_client(script: str, home: Path, tracking_uri: str, login: tuple[str, str], arguments: dict) -> dict:
    """Runs one of the client scripts in a clean process; returns its JSON."""
    home.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [sys.executable, str(CLIENTS / script), json.dumps(arguments)],
        env=client_environment(home, tracking_uri, *login),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{script} failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr[-6000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run_data_scientist(mlflow: MlflowDeployment, home: Path) -> dict:
    assembly = mlflow.platform.assembly
    (model_stack,) = [stack for name, stack in assembly.stacks.items() if "-Model-" in name]
    # The primary version's Deployment: the first version's, which the router does not replace.
    deployment = next(
        o
        for o in assembly.applied_objects(model_stack)
        if o["kind"] == "Deployment" and "mlops.platform/model-version" in o["metadata"].get("labels", {})
    )
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    return run_client(
        "data_scientist.py",
        home,
        mlflow.url,
        mlflow.admin,
        {
            "user": "ada",
            "password": "ada-password-for-tests",
            "registered_model": annotations["mlops.platform/registered-model"],
            "alias": annotations["mlops.platform/model-alias"],
        },
    )


def lay_out_model(mlflow: MlflowDeployment, registered_model: dict, destination: Path, home: Path) -> Path:
    """The data scientist's registered model at ``destination``, laid out as `mlflow models
    build-docker` lays it in the image, readable by the pod's user; ``home`` is the builder's."""
    destination.mkdir(parents=True)
    run_client(
        "model_layout.py",
        home,
        mlflow.url,
        (registered_model["user"], registered_model["password"]),
        {"model_uri": f"models:/{registered_model['registered_model']}@{registered_model['alias']}", "destination": str(destination)},
    )
    for path in [destination.parent, *destination.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return destination
