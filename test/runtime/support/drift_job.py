"""A model's drift report CronJob of the synthesized manifest, run as the kubelet runs one of its
pods (job_pod.py): the init container ``mlflow-credentials``, then the container ``report``. Each
step runs the image its manifest names, found through the assembly's asset manifest: its
Dockerfile's files and environment, over the virtual environment installed from the same
requirements file (the MLflow image's is this tier's own; the drift report image's is
``.runtime/drift``, which holds that image's packages alone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from .assembly import Assembly
from .job_pod import JobPod, StepRun, model_cron_job, pod_spec
from .platform import MLFLOW_IMAGE, Platform
from .pod import Container
from .processes import REPO_ROOT
from .team_accounts import _give_home_a_mount_point

__all__ = ["DriftPod", "StepRun", "drift_cron_job", "pod_spec"]

DRIFT_IMAGE = REPO_ROOT / "images" / "drift-report"
# Where scripts/setup-runtime.sh installs the drift report image's requirements file, and nothing else.
DRIFT_ENVIRONMENT = REPO_ROOT / ".runtime" / "drift"
# The virtual environment standing in for each image's packages; None is this tier's own.
ENVIRONMENTS: dict[Path, Path | None] = {MLFLOW_IMAGE / "Dockerfile": None, DRIFT_IMAGE / "Dockerfile": DRIFT_ENVIRONMENT}


def drift_cron_job(assembly: Assembly, model: str) -> dict:
    return model_cron_job(assembly, model, "drift")


class DriftPod(JobPod):
    """One pod of the CronJob. ``env`` replaces manifest values per step."""

    def __init__(self, platform: Platform, assembly: Assembly, cron_job: dict, root: Path, env: Mapping[str, Mapping[str, str]]):
        super().__init__(platform, cron_job, root, env, "drift")
        self.assembly = assembly

    def run_step(self, spec: dict) -> StepRun:
        context, dockerfile_path = self.assembly.image_source(spec["image"])
        if dockerfile_path not in ENVIRONMENTS:
            raise KeyError(f"step {spec['name']} runs {dockerfile_path}, which this tier has no environment for")
        dockerfile, files = self.image_files(spec["name"], dockerfile_path, context)
        return self.start(
            Container(spec, self.spec, dockerfile),
            files,
            launcher=_give_home_a_mount_point,
            python_environment=ENVIRONMENTS[dockerfile_path],
        )
