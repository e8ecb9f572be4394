"""A model's training CronJob of the synthesized manifest, run as the kubelet runs one of its pods:
the init containers ``mlflow-credentials``, ``train`` and ``promote``, then the container
``report``, one after the other, each only if the one before exited 0, over the pod's volumes.

The platform steps run the MLflow image's files with its Dockerfile's environment; ``train`` runs
the "team image" stand-in (this environment's Python, with the client script train_model.py at the
path the manifest's command names). Every container the pod's ``eks.amazonaws.com/skip-containers``
annotation names (``promote``, and ``train`` unless the job has an input) gets no Pod Identity
credentials; the others get the agent stand-in's.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .assembly import Assembly, find_object
from .mlflow_server import CLIENTS
from .platform import MLFLOW_IMAGE, Platform, image_passwd
from .pod import POD_IDENTITY_TOKEN_PATH, Container, Dockerfile, run_container
from .team_accounts import _give_home_a_mount_point

SKIP_CREDENTIALS_ANNOTATION = "eks.amazonaws.com/skip-containers"
TRAIN_CONTAINER = "train"
# A step the tests wait for longer than this has hung; the Job's own deadline comes from config.
STEP_TIMEOUT_SECONDS = 600


def training_cron_job(assembly: Assembly, model: str) -> dict:
    """The model's training CronJob, from the model's own stack."""
    return find_object(assembly.applied_objects(assembly.stack(f"Model-{model}")), "CronJob", f"{model}-training")


def pod_spec(cron_job: dict) -> dict:
    return cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


@dataclass
class StepRun:
    name: str
    exit_code: int
    log: str


class TrainingPod:
    """One pod of the CronJob. ``env`` replaces manifest values per step; ``settings`` is what the
    training script reads beside itself (how good a model to train)."""

    def __init__(self, platform: Platform, cron_job: dict, root: Path, env: Mapping[str, Mapping[str, str]], settings: dict):
        self.platform = platform
        self.template = cron_job["spec"]["jobTemplate"]["spec"]["template"]
        self.spec = self.template["spec"]
        self.env = env
        # One folder per pod: its emptyDir volumes, shared by its containers.
        self.folder = Path(tempfile.mkdtemp(prefix="training-pod-", dir=root))
        self.folder.chmod(0o755)
        self.settings = self.folder / "settings.json"
        self.settings.write_text(json.dumps(settings))
        self.settings.chmod(0o644)
        annotation = self.template["metadata"].get("annotations", {}).get(SKIP_CREDENTIALS_ANNOTATION, "")
        self.without_credentials = {name.strip() for name in annotation.split(",") if name.strip()}

    def run(self) -> list[StepRun]:
        """Runs the steps in order and stops at the first that fails, as the kubelet does."""
        runs: list[StepRun] = []
        for spec in [*self.spec["initContainers"], *self.spec["containers"]]:
            run = self.run_step(spec)
            runs.append(run)
            if run.exit_code != 0:
                break
        return runs

    def run_step(self, spec: dict) -> StepRun:
        name = spec["name"]
        files: dict[str, Path] = {}
        if name == TRAIN_CONTAINER:
            container = Container(spec, self.spec, Dockerfile())
            script = spec["command"][-1]
            files[script] = CLIENTS / "train_model.py"
            files[str(Path(script).with_name("settings.json"))] = self.settings
        else:
            platform_image = Dockerfile.read(MLFLOW_IMAGE / "Dockerfile")
            container = Container(spec, self.spec, platform_image)
            passwd = self.folder / "passwd"
            passwd.write_text(image_passwd(MLFLOW_IMAGE / "Dockerfile"))
            files.update({destination: MLFLOW_IMAGE / source for source, destination in platform_image.copies})
            files["/etc/passwd"] = passwd
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
            launcher=_give_home_a_mount_point,
        )
        try:
            exit_code = process.wait(STEP_TIMEOUT_SECONDS)
        finally:
            process.stop()
        return StepRun(name, exit_code, process.log())
