"""A model's batch inference CronJob of the synthesized manifest, run as the kubelet runs one of
its pods (job_pod.py): the init containers ``fetch`` and ``predict``, then the container ``upload``.

``fetch`` and ``upload`` run the MLflow image's files with its Dockerfile's environment; ``predict``
runs the scoring image stand-in the model pods use (this environment's Python, with the model laid
out where the image has it) and, like every container the pod's ``eks.amazonaws.com/skip-containers``
annotation names, gets no credentials at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from .assembly import Assembly
from .job_pod import JobPod, StepRun, model_cron_job, pod_spec
from .platform import MLFLOW_IMAGE, Platform
from .pod import Container, Dockerfile

__all__ = ["BatchPod", "StepRun", "batch_cron_job", "pod_spec"]


def batch_cron_job(assembly: Assembly, model: str) -> dict:
    return model_cron_job(assembly, model, "batch")


class BatchPod(JobPod):
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
        super().__init__(platform, cron_job, root, env, "batch")
        self.model_folder = model_folder
        self.args = args or {}

    def run_step(self, spec: dict) -> StepRun:
        spec = {**spec, "args": self.args.get(spec["name"], spec.get("args", []))}
        platform_image, files = self.image_files(spec["name"], MLFLOW_IMAGE / "Dockerfile", MLFLOW_IMAGE)
        # A step of the platform image runs a file its Dockerfile copies; the other runs the model's image.
        if any(argument in files for argument in spec["command"]):
            return self.start(Container(spec, self.spec, platform_image), files)
        model_uri = spec["args"][spec["args"].index("--model-uri") + 1]
        return self.start(Container(spec, self.spec, Dockerfile()), {model_uri: self.model_folder})
