"""MLflow's team users: the user sync Job of the Mlflow stack, and a team's job with its
credentials init step, run from their manifests against the runtime tier's MLflow server.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import requests
import yaml

from .mlflow_server import CLIENTS, MlflowDeployment
from .platform import MLFLOW_IMAGE, Platform, image_passwd
from .pod import POD_IDENTITY_TOKEN_PATH, Container, Dockerfile, run_container
from .processes import REPO_ROOT, ManagedProcess

RUN_TIMEOUT_SECONDS = 300

# Where the team job's container finds the client script; a team image would have its own code.
JOB_SCRIPT_PATH = "/opt/team-job/team_job.py"


def sync_container(platform: Platform) -> Container:
    return platform.mlflow_container("Job", r"mlflow-sync-users-.+")


def _give_home_a_mount_point(command: list[str]) -> list[str]:
    """The container runtime creates a volume's mount point in the image even when the root file
    system is read-only; bubblewrap cannot create one in the read-only copy of this machine's root,
    so the sandbox gets an empty /home (this machine's is not the image's anyway)."""
    root = command.index("/", command.index("bwrap")) + 2
    return [*command[:root], "--perms", "0755", "--tmpfs", "/home", *command[root:]]


def run_pod_container(
    platform: Platform,
    container: Container,
    folder: Path,
    overrides: dict[str, str] | None = None,
    argv: list[str] | None = None,
    extra_files: dict[str, Path] | None = None,
) -> ManagedProcess:
    """Runs one container of a pod whose emptyDir volumes are under ``folder``, so containers of
    one pod share them; with the Pod Identity agent's variables, as EKS injects them into every
    container of a pod whose service account has an association."""
    passwd = folder / "passwd"
    passwd.write_text(image_passwd(MLFLOW_IMAGE / "Dockerfile"))
    files = {destination: MLFLOW_IMAGE / source for source, destination in container.image.copies}
    files.update({"/etc/passwd": passwd, POD_IDENTITY_TOKEN_PATH: platform.agent.token_file, **(extra_files or {})})
    return run_container(
        container,
        scratch=folder,
        log_path=folder / f"{container.spec['name']}.log",
        overrides=overrides,
        injected={
            **platform.agent.environment(),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": POD_IDENTITY_TOKEN_PATH,
            "AWS_ENDPOINT_URL": platform.aws.url,
        },
        read_only_files=files,
        argv=argv,
        launcher=_give_home_a_mount_point,
    )


def run_to_end(process: ManagedProcess) -> tuple[int, str]:
    try:
        exit_code = process.wait(RUN_TIMEOUT_SECONDS)
    finally:
        process.stop()
    return exit_code, process.log()


def new_pod_folder(platform: Platform, name: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=platform.pods_folder()))


@dataclass
class SyncRun:
    exit_code: int
    log: str

    @classmethod
    def run(cls, platform: Platform, mlflow: MlflowDeployment, name: str, teams: list[dict] | None = None) -> "SyncRun":
        """The sync Job's container as its manifest has it, pointed at the load balancer stand-in
        (in the cluster: the server's Service), with another team list if given."""
        overrides = {"MLFLOW_TRACKING_URI": mlflow.url}
        if teams is not None:
            overrides["MLFLOW_TEAMS"] = json.dumps(teams)
        process = run_pod_container(platform, sync_container(platform), new_pod_folder(platform, name), overrides)
        return cls(*run_to_end(process))


def team_login(platform: Platform, mlflow: MlflowDeployment, pod_name: str, team: str) -> tuple[str, str]:
    """The team's user, made (or found) by a run of the user sync Job, and its login."""
    sync = SyncRun.run(platform, mlflow, pod_name)
    assert sync.exit_code == 0, sync.log
    teams = {entry["team"]: entry for entry in json.loads(sync_container(platform).manifest_env()["MLFLOW_TEAMS"])}
    secret = platform.secret(teams[team]["secretId"])
    return secret["username"], secret["password"]


def synthesize_team_job(folder: Path, image: str, secret_arn: str, region: str) -> dict:
    """The Job test/runtime/synth-team-job.ts builds with the credentials init step."""
    completed = subprocess.run(
        ["npx", "--no-install", "tsx", "test/runtime/synth-team-job.ts", str(folder), image, secret_arn, region],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip() or "synth-team-job.ts failed")
    (job,) = [o for o in yaml.safe_load_all((folder / "team-job.k8s.yaml").read_text()) if o]
    return job


@dataclass
class TeamJobRun:
    folder: Path
    init_exit_code: int
    init_log: str
    job_exit_code: int
    job_log: str
    result: dict | None


def run_team_job(platform: Platform, mlflow: MlflowDeployment, job: dict, arguments: dict) -> TeamJobRun:
    """The init container, then (if it succeeded) the job's container with the MLflow client, in
    one pod folder. The job's container has no Dockerfile of ours: it is any team's image."""
    pod_spec = job["spec"]["template"]["spec"]
    (init_spec,) = pod_spec["initContainers"]
    (job_spec,) = pod_spec["containers"]
    folder = new_pod_folder(platform, "team-job")
    init = Container(init_spec, pod_spec, Dockerfile.read(MLFLOW_IMAGE / "Dockerfile"))
    init_exit_code, init_log = run_to_end(run_pod_container(platform, init, folder))
    if init_exit_code != 0:
        return TeamJobRun(folder, init_exit_code, init_log, -1, "", None)
    main = Container(job_spec, pod_spec, Dockerfile())
    process = run_pod_container(
        platform,
        main,
        folder,
        overrides={"MLFLOW_TRACKING_URI": mlflow.url},
        argv=["python", JOB_SCRIPT_PATH, json.dumps(arguments)],
        extra_files={JOB_SCRIPT_PATH: CLIENTS / "team_job.py"},
    )
    job_exit_code, job_log = run_to_end(process)
    lines = job_log.strip().splitlines()
    result = json.loads(lines[-1]) if job_exit_code == 0 and lines else None
    return TeamJobRun(folder, init_exit_code, init_log, job_exit_code, job_log, result)


class MlflowRest:
    """Calls to the tracking server through the load balancer stand-in, as one login."""

    def __init__(self, mlflow: MlflowDeployment, login: tuple[str, str]):
        self.url = mlflow.url
        self.login = login

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, auth=self.login, timeout=30, **kwargs)

    def ok(self, method: str, path: str, **kwargs) -> dict:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, f"{method} {path} as {self.login[0]}: {response.status_code} {response.text[:500]}"
        return response.json() if response.content else {}
