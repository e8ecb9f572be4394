"""A model's batch inference CronJob of the synthesized manifest, run as the kubelet runs one of
its pods: the init containers ``fetch`` and ``predict``, then the container ``upload``, one after
the other, each only if the one before exited 0, all over the pod's one scratch volume.

``fetch`` and ``upload`` run the MLflow image's files with its Dockerfile's environment and get
Pod Identity credentials from the agent stand-in; ``predict`` runs the scoring image stand-in the
model pods use (this environment's Python, with the model laid out where the image has it) and,
like every container the pod's ``eks.amazonaws.com/skip-containers`` annotation names, no
credentials at all.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .assembly import Assembly, find_object
from .platform import MLFLOW_IMAGE, Platform, image_passwd
from .pod import POD_IDENTITY_TOKEN_PATH, Container, Dockerfile, run_container

SKIP_CREDENTIALS_ANNOTATION = "eks.amazonaws.com/skip-containers"
# A step the tests wait for longer than this has hung; the Job's own deadline is an hour.
STEP_TIMEOUT_SECONDS = 600


def batch_cron_job(assembly: Assembly, model: str) -> dict:
    """The model's CronJob, from the model's own stack."""
    return find_object(assembly.applied_objects(assembly.stack(f"Model-{model}")), "CronJob", f"{model}-batch")


def pod_spec(cron_job: dict) -> dict:
    return cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@dataclass
class StepRun:
    name: str
    exit_code: int
    log: str


class BatchPod:
    """One pod of the CronJob. ``env`` replaces manifest values per step, ``args`` a step's arguments."""

    def __init__(
        self,
        platform: Platform,
        cron_job: dict,
        model_folder: Path,
        root: Path,
        env: Mapping[str, Mapping[str, str]] | None = None,
        args: Mapping[str, list[str]] | None = None,
    ):
        self.platform = platform
        self.template = cron_job["spec"]["jobTemplate"]["spec"]["template"]
        self.spec = self.template["spec"]
        self.model_folder = model_folder
        self.env = env or {}
        self.args = args or {}
        # One folder per pod: its emptyDir volumes, shared by its containers.
        self.folder = Path(tempfile.mkdtemp(prefix="batch-pod-", dir=root))
        self.folder.chmod(0o755)
        annotation = self.template["metadata"].get("annotations", {}).get(SKIP_CREDENTIALS_ANNOTATION, "")
        self.without_credentials = {name.strip() for name in annotation.split(",") if name.strip()}

    def steps(self) -> list[dict]:
        return [*self.spec.get("initContainers", []), *self.spec["containers"]]

    def run(self) -> list[StepRun]:
        """Runs the steps in order and stops at the first that fails, as the kubelet does."""
        runs: list[StepRun] = []
        for spec in self.steps():
            run = self.run_step(spec)
            runs.append(run)
            if run.exit_code != 0:
                break
        return runs

    def run_step(self, spec: dict) -> StepRun:
        name = spec["name"]
        spec = {**spec, "args": self.args.get(name, spec.get("args", []))}
        platform_image = Dockerfile.read(MLFLOW_IMAGE / "Dockerfile")
        copied = {destination: MLFLOW_IMAGE / source for source, destination in platform_image.copies}
        # A step of the platform image runs a file its Dockerfile copies; the other runs the model's image.
        platform_step = any(argument in copied for argument in spec["command"])
        container = Container(spec, self.spec, platform_image if platform_step else Dockerfile())
        files: dict[str, Path] = {}
        if platform_step:
            passwd = self.folder / "passwd"
            passwd.write_text(image_passwd(MLFLOW_IMAGE / "Dockerfile"))
            files = {**copied, "/etc/passwd": passwd}
        else:
            files[spec["args"][spec["args"].index("--model-uri") + 1]] = self.model_folder
        injected: dict[str, str] = {}
        if name not in self.without_credentials:
            files[POD_IDENTITY_TOKEN_PATH] = self.platform.agent.token_file
            injected.update(self.platform.agent.environment())
            injected["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = POD_IDENTITY_TOKEN_PATH
            injected["AWS_ENDPOINT_URL"] = self.platform.aws.url
        process = run_container(
            container,
            scratch=self.folder,
            log_path=self.folder / f"{name}.log",
            overrides=self.env.get(name),
            injected=injected,
            read_only_files=files,
        )
        try:
            exit_code = process.wait(STEP_TIMEOUT_SECONDS)
        finally:
            process.stop()
        return StepRun(name, exit_code, process.log())
