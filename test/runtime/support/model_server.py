"""A model Deployment of the Serving stack, run as its pods run: the container command, args and
environment from the manifest, the model laid out where `mlflow models build-docker` puts it,
non-root, with only the scratch volume writable.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Callable

from .assembly import Assembly, find_object
from .pod import Container, run_container
from .processes import ManagedProcess, free_port, wait_for_http

MODEL_PATH_VARIABLE = "__pyfunc_model_path__"


def model_container(assembly: Assembly, model: str, version: str) -> Container:
    """The scoring container of one version of a model, from the model's own stack."""
    deployment = find_object(assembly.applied_objects(assembly.stack(f"Model-{model}")), "Deployment", f"{model}-{version}")
    pod_spec = deployment["spec"]["template"]["spec"]
    (spec,) = pod_spec["containers"]
    return Container(spec, pod_spec)


def container_port(container: Container) -> int:
    """The port the command listens on, which must be the one the probes and the Service name."""
    args = container.argv()
    listening = int(args[args.index("--port") + 1])
    (declared,) = container.spec["ports"]
    assert declared["containerPort"] == listening, f"the container listens on {listening}, declares {declared}"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container.spec[probe]["httpGet"]["port"] == declared["name"], f"{probe} probes another port"
    return listening


class ModelPod:
    def __init__(
        self,
        container: Container,
        model_folder: Path,
        scratch_root: Path,
        launcher: Callable[[list[str]], list[str]] | None = None,
    ):
        self.container = container
        self.port = free_port()
        argv = container.argv()
        argv[argv.index("--port") + 1] = str(self.port)
        scratch = Path(tempfile.mkdtemp(prefix="model-", dir=scratch_root))
        scratch.chmod(0o755)
        model_path = container.manifest_env()[MODEL_PATH_VARIABLE]
        self.process: ManagedProcess = run_container(
            container,
            scratch=scratch,
            log_path=scratch / "container.log",
            read_only_files={model_path: model_folder},
            argv=argv,
            launcher=launcher,
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def probe_path(self, probe: str) -> str:
        return self.container.spec[probe]["httpGet"]["path"]

    def wait_started(self) -> float:
        """Polls the startup probe as the kubelet does, within the probe's own budget."""
        probe = self.container.spec["startupProbe"]
        budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
        return wait_for_http(f"{self.url}{self.probe_path('startupProbe')}", self.process, budget)

    def stop(self) -> None:
        self.process.stop()
