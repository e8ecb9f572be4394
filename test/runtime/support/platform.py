"""One synthesized environment brought to life on loopback: its templates, PostgreSQL set up like
its RDS instance, its buckets and secrets in the AWS emulator, and the pods of its manifests.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .assembly import Assembly, find_object
from .aws import MotoServer, PodIdentityAgent, provision, secret_name
from .pod import POD_IDENTITY_TOKEN_PATH, Container, Dockerfile, run_container
from .postgres import Login, RdsLikePostgres
from .processes import REPO_ROOT, ManagedProcess, free_port
from .tls import CertificateAuthority

MLFLOW_IMAGE = REPO_ROOT / "images" / "mlflow"

# Where the pods find the test CA instead of the RDS bundle the image carries.
TEST_CA_PATH = "/run/runtime-tests/ca.pem"


class SynthFailed(Exception):
    """The app refused the config or failed; the message is what it printed."""


def synthesize(folder: Path, config_dir: Path) -> Assembly:
    """Synthesizes the environments in ``config_dir`` and loads the only stage."""
    completed = subprocess.run(
        ["npx", "--no-install", "tsx", "test/runtime/synth.ts", str(folder), str(config_dir)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise SynthFailed(completed.stderr.strip() or f"synth of {config_dir} failed")
    stages = sorted(folder.glob("assembly-*"))
    if len(stages) != 1:
        raise RuntimeError(f"expected one stage in {config_dir}, found {[stage.name for stage in stages]}")
    return Assembly.load(stages[0])


def image_passwd(dockerfile: Path) -> str:
    """/etc/passwd as the image has it: root, and the user its useradd line creates."""
    match = re.search(r"useradd .*--uid (\d+) --gid (\d+) .*--home-dir (\S+) .*?(\S+)\s*$", dockerfile.read_text(), re.M)
    if match is None:
        raise ValueError(f"{dockerfile} creates no user with a fixed uid")
    uid, gid, home, name = match.groups()
    return f"root:x:0:0:root:/root:/bin/bash\n{name}:x:{uid}:{gid}::{home}:/usr/sbin/nologin\n"


@dataclass
class Platform:
    root: Path
    assembly: Assembly
    ca: CertificateAuthority
    aws: MotoServer
    agent: PodIdentityAgent
    postgres: RdsLikePostgres
    # Test-generated, but kept out of failure reports all the same.
    secret_values: dict[str, str] = field(repr=False)

    @classmethod
    def start(cls, root: Path, assembly: Assembly) -> "Platform":
        ca = CertificateAuthority(root / "ca")
        aws = MotoServer(root / "aws")
        agent = PodIdentityAgent(root)
        port = free_port()
        values = provision(assembly, aws, "localhost", port)
        master = cls._master_login(assembly, values)
        postgres = RdsLikePostgres(root / "postgres", ca, master, port=port)
        platform = cls(root, assembly, ca, aws, agent, postgres, values)
        try:
            postgres.start()
        except BaseException:
            platform.stop()
            raise
        return platform

    @staticmethod
    def _master_login(assembly: Assembly, values: Mapping[str, str]) -> Login:
        """The master user and password RDS takes from the secret its template names."""
        data = assembly.stack("Data")
        (_, instance), = data.resources("AWS::RDS::DBInstance")
        reference = assembly.resolve(data, instance["MasterUsername"])
        # {{resolve:secretsmanager:<arn>:SecretString:username::}}
        arn = reference.removeprefix("{{resolve:secretsmanager:").split(":SecretString:")[0]
        document = json.loads(values[secret_name(arn)])
        return Login(document["username"], document["password"])

    def pods_folder(self) -> Path:
        folder = self.root / "pods"
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)
        return folder

    def secret(self, name_or_arn: str) -> dict:
        """A JSON secret's value, by its name or by the ARN a manifest holds."""
        name = secret_name(name_or_arn) if name_or_arn.startswith("arn:") else name_or_arn
        return json.loads(self.secret_values[name])

    def stop(self) -> None:
        for part in (self.postgres, self.aws, self.agent):
            try:
                part.stop()
            except Exception:  # noqa: BLE001 (stop the rest whatever happened)
                pass

    # -----------------------------------------------------------------------------------------
    # The MLflow stack's pods

    def mlflow_objects(self) -> list[dict]:
        return self.assembly.applied_objects(self.assembly.stack("Mlflow"))

    def mlflow_container(self, kind: str, name_pattern: str) -> Container:
        workload = find_object(self.mlflow_objects(), kind, name_pattern)
        pod_spec = workload["spec"]["template"]["spec"]
        (spec,) = pod_spec["containers"]
        return Container(spec, pod_spec, Dockerfile.read(MLFLOW_IMAGE / "Dockerfile"))

    def run_mlflow(
        self,
        container: Container,
        name: str,
        overrides: Mapping[str, str] | None = None,
        argv: list[str] | None = None,
    ) -> ManagedProcess:
        """Runs a container of the MLflow image as its pod would, against this platform."""
        # A new pod gets new emptyDir volumes, so a restart starts from empty scratch space.
        folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.pods_folder()))
        passwd = folder / "passwd"
        passwd.write_text(image_passwd(MLFLOW_IMAGE / "Dockerfile"))
        files = {destination: MLFLOW_IMAGE / source for source, destination in container.image.copies}
        files["/etc/passwd"] = passwd
        files[POD_IDENTITY_TOKEN_PATH] = self.agent.token_file
        files[TEST_CA_PATH] = self.ca.certificate
        return run_container(
            container,
            scratch=folder,
            log_path=folder / "container.log",
            overrides={
                "MLFLOW_DB_PORT": str(self.postgres.port),
                "PGSSLROOTCERT": TEST_CA_PATH,
                **(overrides or {}),
            },
            injected={
                **self.agent.environment(),
                "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": POD_IDENTITY_TOKEN_PATH,
                "AWS_ENDPOINT_URL": self.aws.url,
            },
            read_only_files=files,
            argv=argv,
        )
