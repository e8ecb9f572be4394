"""A model's drift report CronJob of the synthesized manifest, run as the kubelet runs one of its
pods: the init container ``mlflow-credentials``, then the container ``report``, each only if the one
before exited 0. Each step runs the image its manifest names, found through the assembly's asset
manifest: its Dockerfile's files and environment, over the virtual environment installed from the
same requirements file (the MLflow image's is this tier's own; the drift report image's is
``.runtime/drift``, which holds that image's packages alone), with the agent stand-in's credentials
unless the pod's ``eks.amazonaws.com/skip-containers`` annotation names the step.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Mapping

from .assembly import Assembly, find_object
from .platform import MLFLOW_IMAGE, Platform, image_passwd
from .pod import POD_IDENTITY_TOKEN_PATH, Container, Dockerfile, run_container
from .processes import REPO_ROOT
from .team_accounts import _give_home_a_mount_point
from .training_job import SKIP_CREDENTIALS_ANNOTATION, StepRun, pod_spec

__all__ = ["DriftPod", "StepRun", "drift_cron_job", "pod_spec"]

DRIFT_IMAGE = REPO_ROOT / "images" / "drift-report"
# Where scripts/setup-runtime.sh installs the drift report image's requirements file, and nothing else.
DRIFT_ENVIRONMENT = REPO_ROOT / ".runtime" / "drift"
# The virtual environment standing in for each image's packages; None is this tier's own.
ENVIRONMENTS: dict[Path, Path | None] = {MLFLOW_IMAGE / "Dockerfile": None, DRIFT_IMAGE / "Dockerfile": DRIFT_ENVIRONMENT}
# A step the tests wait for longer than this has hung; the Job's own deadline comes from config.
STEP_TIMEOUT_SECONDS = 600


def drift_cron_job(assembly: Assembly, model: str) -> dict:
    """The model's drift report CronJob, from the model's own stack."""
    return find_object(assembly.applied_objects(assembly.stack(f"Model-{model}")), "CronJob", f"{model}-drift")


class DriftPod:
    """One pod of the CronJob. ``env`` replaces manifest values per step."""

    def __init__(self, platform: Platform, assembly: Assembly, cron_job: dict, root: Path, env: Mapping[str, Mapping[str, str]]):
        self.platform = platform
        self.assembly = assembly
        self.spec = pod_spec(cron_job)
        self.env = env
        annotation = cron_job["spec"]["jobTemplate"]["spec"]["template"]["metadata"].get("annotations", {}).get(SKIP_CREDENTIALS_ANNOTATION, "")
        self.without_credentials = {step.strip() for step in annotation.split(",") if step.strip()}
        # One folder per pod: its emptyDir volumes, shared by its containers.
        self.folder = Path(tempfile.mkdtemp(prefix="drift-pod-", dir=root))
        self.folder.chmod(0o755)

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
        context, dockerfile_path = self.assembly.image_source(spec["image"])
        if dockerfile_path not in ENVIRONMENTS:
            raise KeyError(f"step {name} runs {dockerfile_path}, which this tier has no environment for")
        dockerfile = Dockerfile.read(dockerfile_path)
        passwd = self.folder / f"{name}.passwd"
        passwd.write_text(image_passwd(dockerfile_path))
        files = {destination: context / source for source, destination in dockerfile.copies}
        files["/etc/passwd"] = passwd
        injected: dict[str, str] = {}
        if name not in self.without_credentials:
            files[POD_IDENTITY_TOKEN_PATH] = self.platform.agent.token_file
            injected.update(self.platform.agent.environment())
            injected["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = POD_IDENTITY_TOKEN_PATH
            injected["AWS_ENDPOINT_URL"] = self.platform.aws.url
        process = run_container(
            Container(spec, self.spec, dockerfile),
            scratch=self.folder,
            log_path=self.folder / f"{name}.log",
            overrides=self.env.get(name),
            injected=injected,
            read_only_files=files,
            launcher=_give_home_a_mount_point,
            python_environment=ENVIRONMENTS[dockerfile_path],
        )
        try:
            exit_code = process.wait(STEP_TIMEOUT_SECONDS)
        finally:
            process.stop()
        return StepRun(name, exit_code, process.log())
