"""A model's training CronJob of the synthesized manifest, run as the kubelet runs one of its pods
(job_pod.py): the init containers ``mlflow-credentials``, ``train`` and ``promote``, then the
container ``report``.

The platform steps run the MLflow image's files with its Dockerfile's environment; ``train`` runs
the "team image" stand-in (this environment's Python, with the client script train_model.py at the
path the manifest's command names). The pod's ``eks.amazonaws.com/skip-containers`` annotation names
``promote``, and ``train`` unless the job has an input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from .assembly import Assembly
from .job_pod import SKIP_CREDENTIALS_ANNOTATION, JobPod, StepRun, model_cron_job, pod_spec
from .mlflow_server import CLIENTS
from .platform import MLFLOW_IMAGE, Platform
from .pod import Container, Dockerfile
from .team_accounts import _give_home_a_mount_point

__all__ = ["SKIP_CREDENTIALS_ANNOTATION", "StepRun", "TrainingPod", "pod_spec", "training_cron_job"]

TRAIN_CONTAINER = "train"


def training_cron_job(assembly: Assembly, model: str) -> dict:
    return model_cron_job(assembly, model, "training")


class TrainingPod(JobPod):
    """One pod of the CronJob. ``env`` replaces manifest values per step; ``settings`` is what the
    training script reads beside itself (how good a model to train)."""

    def __init__(self, platform: Platform, cron_job: dict, root: Path, env: Mapping[str, Mapping[str, str]], settings: dict):
        super().__init__(platform, cron_job, root, env, "training")
        self.settings = self.folder / "settings.json"
        self.settings.write_text(json.dumps(settings))
        self.settings.chmod(0o644)

    def run_step(self, spec: dict) -> StepRun:
        if spec["name"] == TRAIN_CONTAINER:
            script = spec["command"][-1]
            container = Container(spec, self.spec, Dockerfile())
            files = {script: CLIENTS / "train_model.py", str(Path(script).with_name("settings.json")): self.settings}
        else:
            platform_image, files = self.image_files(spec["name"], MLFLOW_IMAGE / "Dockerfile", MLFLOW_IMAGE)
            container = Container(spec, self.spec, platform_image)
        return self.start(container, files, launcher=_give_home_a_mount_point)
