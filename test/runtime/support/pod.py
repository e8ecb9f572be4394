"""Runs a container of a synthesized pod spec here, as the kubelet would run it.

The command, arguments and environment come from the manifest (and, for an image built from
this repo, from its Dockerfile's ENV and ENTRYPOINT). The process runs as the pod's
``runAsUser``/``runAsGroup`` in a bubblewrap sandbox whose root is read-only when the container
asks for that, with the pod's emptyDir mounts as the only writable folders: the same constraints
the cluster enforces, so a write outside the scratch volume fails here as it would there.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from .processes import ManagedProcess

VENV_BIN = Path(sys.executable).parent

# Where EKS mounts the Pod Identity token in every pod with an association (/var/run/secrets/…;
# /var/run links to /run, which bubblewrap needs spelled out).
POD_IDENTITY_TOKEN_PATH = "/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"

# The image's PATH, with the runtime tier's virtual environment (the image's packages) first.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Dockerfile:
    """The parts of a Dockerfile that decide how its container starts."""

    env: dict[str, str] = field(default_factory=dict)
    entrypoint: list[str] = field(default_factory=list)
    workdir: str = "/"
    copies: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def read(cls, path: Path) -> "Dockerfile":
        result = cls()
        logical_lines: list[str] = []
        current = ""
        for line in path.read_text().splitlines():
            if line.lstrip().startswith("#") and not current:
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            logical_lines.append(current + line)
            current = ""
        for line in logical_lines:
            instruction, _, rest = line.strip().partition(" ")
            instruction = instruction.upper()
            if instruction == "ENV":
                for word in shlex.split(rest):
                    key, _, value = word.partition("=")
                    result.env[key] = value
            elif instruction == "ENTRYPOINT":
                result.entrypoint = json.loads(rest)
            elif instruction == "WORKDIR":
                result.workdir = rest.strip()
            elif instruction == "COPY":
                source, destination = shlex.split(rest)[-2:]
                result.copies.append((source, destination))
        return result


@dataclass
class Container:
    """What to run: the container spec from the manifest and the pod's security context."""

    spec: dict
    pod_spec: dict
    image: Dockerfile = field(default_factory=Dockerfile)

    @property
    def user(self) -> tuple[int, int]:
        context = {**self.pod_spec.get("securityContext", {}), **self.spec.get("securityContext", {})}
        return int(context["runAsUser"]), int(context.get("runAsGroup", context["runAsUser"]))

    @property
    def read_only_root(self) -> bool:
        return bool(self.spec.get("securityContext", {}).get("readOnlyRootFilesystem"))

    def argv(self) -> list[str]:
        command = self.spec.get("command") or self.image.entrypoint
        return [*command, *self.spec.get("args", [])]

    def manifest_env(self) -> dict[str, str]:
        env = {}
        for variable in self.spec.get("env", []):
            if "value" not in variable:
                raise ValueError(f"env {variable['name']} is not a literal value; the runtime tier cannot fill it")
            env[variable["name"]] = variable["value"]
        return env

    def emptydir_mounts(self) -> list[str]:
        empty_dirs = {volume["name"] for volume in self.pod_spec.get("volumes", []) if "emptyDir" in volume}
        return [mount["mountPath"] for mount in self.spec.get("volumeMounts", []) if mount["name"] in empty_dirs]


def _read_only_mount(outside: Path, inside: str) -> list[str]:
    # bubblewrap would create missing parents readable by root only.
    parents = [["--perms", "0755", "--dir", str(parent)] for parent in reversed(Path(inside).parents[:-1])]
    return [*(argument for parent in parents for argument in parent), "--ro-bind", str(outside), inside]


def _interpreter_mounts() -> list[str]:
    """Makes the Python installation behind the virtual environment reachable by the pod's user.

    An installation under a private folder (pyenv under /root, say) is readable by root only; the
    image has its interpreter in a public place, so the sandbox shows this one the same way.
    """
    prefix = Path(sys.base_prefix).resolve()
    for ancestor in reversed(prefix.parents):
        if not os.stat(ancestor).st_mode & stat.S_IXOTH:
            return ["--perms", "0755", "--tmpfs", str(ancestor), *_read_only_mount(prefix, str(prefix))]
    return []


def run_container(
    container: Container,
    scratch: Path,
    log_path: Path,
    overrides: Mapping[str, str] | None = None,
    injected: Mapping[str, str] | None = None,
    read_only_files: Mapping[str, Path] | None = None,
    argv: list[str] | None = None,
    launcher: Callable[[list[str]], list[str]] | None = None,
    python_environment: Path | None = None,
) -> ManagedProcess:
    """Starts ``container`` in a sandbox.

    ``overrides`` replaces manifest values that name AWS or the database (endpoints, ports, the
    CA path); ``injected`` adds what the cluster adds at admission (Pod Identity's variables);
    ``read_only_files`` maps paths inside the container to files here (the image's own files);
    ``launcher`` wraps the whole command line (a CPU limit, say); ``python_environment`` is the
    virtual environment that stands in for the image's packages, this tier's own by default.
    """
    if shutil.which("bwrap") is None:
        raise RuntimeError("bubblewrap (bwrap) is missing: run scripts/setup-runtime.sh")
    uid, gid = container.user
    bin_folder = python_environment / "bin" if python_environment else VENV_BIN
    env = {"PATH": f"{bin_folder}:{BASE_PATH}", **container.image.env, **container.manifest_env()}
    for key in overrides or {}:
        if key not in env:
            raise KeyError(f"override {key} replaces nothing the image or manifest sets")
    env.update(overrides or {})
    env.update(injected or {})

    sandbox = ["bwrap", "--die-with-parent", "--ro-bind" if container.read_only_root else "--bind", "/", "/"]
    # Container runtimes give every container a world-writable /dev/shm (MLflow's server uses it).
    sandbox += ["--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm", "--proc", "/proc", "--tmpfs", "/run", "--tmpfs", "/opt"]
    for index, mount_path in enumerate(container.emptydir_mounts()):
        folder = scratch / f"volume-{index}"
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, uid, gid)
        sandbox += ["--bind", str(folder), mount_path]
    sandbox += _interpreter_mounts()
    # A checkout under /tmp (as CI may make one) would be hidden by the scratch volume there.
    masked = ["/dev", "/run", "/opt", *container.emptydir_mounts()]
    environment_prefix = (python_environment or Path(sys.prefix)).resolve()
    if any(environment_prefix.is_relative_to(path) for path in masked):
        sandbox += _read_only_mount(environment_prefix, str(environment_prefix))
    for inside, outside in (read_only_files or {}).items():
        sandbox += _read_only_mount(outside, inside)
    sandbox += ["--chdir", container.spec.get("workingDir") or container.image.workdir]
    privileges = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
    # bwrap and setpriv pass the environment on untouched, and nothing else reaches the process.
    command = [*sandbox, "--", *privileges, *(argv or container.argv())]
    return ManagedProcess(container.spec["name"], launcher(command) if launcher else command, log_path, env=env)
