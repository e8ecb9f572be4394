"""A model's scheduled job (a CronJob of the synthesized manifest), one of its pods run as the kubelet
runs it: the init containers, then the container, one after the other, each only if the one before
exited 0, over the pod's one scratch folder. Every container the pod's
``eks.amazonaws.com/skip-containers`` annotation names gets no Pod Identity credentials; the others
get the agent stand-in's.

What each container runs (an image built from this repo, or a stand-in for a team's or a model's
image) is the job's own: batch_job.py, training_job.py, drift_job.py.
"""

from __future__ import annotations

import datetime
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from .assembly import Assembly, find_object
from .platform import Platform, image_passwd
from .pod import POD_IDENTITY_TOKEN_PATH, Container, Dockerfile, run_container

SKIP_CREDENTIALS_ANNOTATION = "eks.amazonaws.com/skip-containers"
# A step the tests wait for longer than this has hung; the Job's own deadline comes from config.
STEP_TIMEOUT_SECONDS = 600


def model_cron_job(assembly: Assembly, model: str, job: str) -> dict:
    """The model's CronJob ``<model>-<job>``, from the model's own stack."""
    return find_object(assembly.applied_objects(assembly.stack(f"Model-{model}")), "CronJob", f"{model}-{job}")


def pod_spec(cron_job: dict) -> dict:
    return cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def step_spec(cron_job: dict, name: str) -> dict:
    """The init container or container ``name`` of the CronJob's pod."""
    spec = pod_spec(cron_job)
    (found,) = [step for step in [*spec.get("initContainers", []), *spec["containers"]] if step["name"] == name]
    return found


def step_env(cron_job: dict, name: str) -> dict[str, str]:
    """The environment the manifest gives the step ``name``."""
    return {variable["name"]: variable["value"] for variable in step_spec(cron_job, name)["env"]}


def metric_datapoints(platform: Platform, cron_job: dict, step: str, settings: str, metric: str, period: int, statistics: list[str]) -> list[dict]:
    """The last hour's datapoints, per ``period`` seconds, of a metric the step ``step`` publishes to
    the namespace and with the dimensions its manifest sets (``<settings>_METRIC_NAMESPACE`` and
    ``<settings>_METRIC_DIMENSIONS``, ``name=value`` pairs separated by commas)."""
    env = step_env(cron_job, step)
    dimensions = [dict(zip(("Name", "Value"), pair.split("="))) for pair in env[f"{settings}_METRIC_DIMENSIONS"].split(",")]
    cloudwatch = platform.aws.client("cloudwatch", platform.assembly.region)
    now = datetime.datetime.now(datetime.timezone.utc)
    return cloudwatch.get_metric_statistics(
        Namespace=env[f"{settings}_METRIC_NAMESPACE"],
        MetricName=metric,
        Dimensions=dimensions,
        StartTime=now - datetime.timedelta(hours=1),
        EndTime=now + datetime.timedelta(minutes=5),
        Period=period,
        Statistics=statistics,
    )["Datapoints"]


@dataclass
class StepRun:
    name: str
    exit_code: int
    log: str


class JobPod:
    """One pod of the CronJob. ``env`` replaces manifest values per step; ``run_step`` is the job's."""

    def __init__(self, platform: Platform, cron_job: dict, root: Path, env: Mapping[str, Mapping[str, str]] | None, kind: str):
        self.platform = platform
        self.template = cron_job["spec"]["jobTemplate"]["spec"]["template"]
        self.spec = self.template["spec"]
        self.env = env or {}
        # One folder per pod: its emptyDir volumes, shared by its containers.
        self.folder = Path(tempfile.mkdtemp(prefix=f"{kind}-pod-", dir=root))
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
        raise NotImplementedError

    def image_files(self, name: str, dockerfile_path: Path, context: Path) -> tuple[Dockerfile, dict[str, Path]]:
        """An image built from this repo, for the step ``name``: its Dockerfile, and the files it copies
        from ``context`` with its /etc/passwd, by their paths in the image."""
        dockerfile = Dockerfile.read(dockerfile_path)
        passwd = self.folder / f"{name}.passwd"
        passwd.write_text(image_passwd(dockerfile_path))
        return dockerfile, {**{destination: context / source for source, destination in dockerfile.copies}, "/etc/passwd": passwd}

    def start(self, container: Container, files: Mapping[str, Path], **options) -> StepRun:
        """Runs the step to its end with ``files`` in its image and, unless the annotation names it,
        the pod's credentials; ``options`` go to run_container."""
        name = container.spec["name"]
        files = dict(files)
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
            **options,
        )
        try:
            exit_code = process.wait(STEP_TIMEOUT_SECONDS)
        finally:
            process.stop()
        return StepRun(name, exit_code, process.log())
