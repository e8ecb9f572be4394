"""A model's router (charts/lib/model-router.ts) run as its pod runs: Debian's nginx at the version
its image pins (unpacked by scripts/setup-runtime.sh), the nginx.conf of the synthesized ConfigMap
mounted where the manifest mounts it, the manifest's arguments, non-root, with only the scratch
volume writable. Only the listen port and the versions' addresses (Service names, which mean
nothing here) are replaced, by loopback ports of the servers the tests start.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping

import yaml

from .assembly import find_object
from .pod import Container, run_container
from .processes import REPO_ROOT, ManagedProcess, free_port, wait_for_http

# What setup-runtime.sh unpacked, and the Debian version it came from.
NGINX_ROOT = REPO_ROOT / ".runtime" / "nginx"
NGINX_BINARY = NGINX_ROOT / "usr" / "sbin" / "nginx"

# Where the sandbox shows the unpacked binary: the image has it on its PATH, the host may not.
NGINX_IN_SANDBOX = "/opt/runtime-tier/nginx"


def synthesize_routers(folder: Path) -> dict[str, list[dict]]:
    """The objects of each chart test/runtime/synth-model-router.ts synthesizes, by chart name."""
    completed = subprocess.run(
        ["npx", "--no-install", "tsx", "test/runtime/synth-model-router.ts", str(folder)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr.strip() or "synth-model-router.ts failed")
    return {
        manifest.name.removesuffix(".k8s.yaml"): [o for o in yaml.safe_load_all(manifest.read_text()) if o]
        for manifest in sorted(folder.glob("*.k8s.yaml"))
    }


def pinned_nginx_version() -> str:
    """The Debian version of nginx the router image installs."""
    dockerfile = (REPO_ROOT / "images" / "model-router" / "Dockerfile").read_text()
    (version,) = re.findall(r"\snginx=(\S+)", dockerfile)
    return version


class RouterPod:
    """The router's container, its upstreams moved to ``upstreams`` (Service host → loopback port)."""

    def __init__(self, objects: list[dict], upstreams: Mapping[str, int], scratch_root: Path):
        config_map = find_object(objects, "ConfigMap", ".*")
        deployment = find_object(objects, "Deployment", ".*")
        pod_spec = deployment["spec"]["template"]["spec"]
        (spec,) = pod_spec["containers"]
        self.container = Container(spec, pod_spec)
        (declared,) = spec["ports"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

        folder = Path(tempfile.mkdtemp(prefix="router-", dir=scratch_root))
        folder.chmod(0o755)
        files: dict[str, Path] = {NGINX_IN_SANDBOX: NGINX_BINARY}
        for mount_path, key, text in _config_map_files(config_map, pod_spec, spec):
            rewritten = _rewrite(text, declared["containerPort"], self.port, upstreams)
            local = folder / key
            local.write_text(rewritten)
            local.chmod(0o644)
            files[f"{mount_path}/{key}"] = local

        argv = self.container.argv()
        assert argv[0] == "nginx", f"the router runs {argv[0]}, not the image's nginx"
        argv[0] = NGINX_IN_SANDBOX

        # In the cluster stdout is a pipe nginx reopens as /dev/stdout; here it is a file, which the
        # pod's user must own to reopen.
        log_path = folder / "container.log"
        log_path.touch()
        uid, gid = self.container.user
        os.chown(log_path, uid, gid)
        self.process: ManagedProcess = run_container(
            self.container, scratch=folder, log_path=log_path, read_only_files=files, argv=argv
        )

    def wait_started(self, timeout: float = 10) -> float:
        path = self.container.spec["readinessProbe"]["httpGet"]["path"]
        return wait_for_http(f"{self.url}{path}", self.process, timeout)

    def access_log(self) -> list[dict]:
        """The JSON lines nginx wrote to stdout, one per request."""
        return [json.loads(line) for line in self.process.log().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        self.process.stop()


def _config_map_files(config_map: dict, pod_spec: dict, spec: dict) -> list[tuple[str, str, str]]:
    """(mount path, key, text) of every ConfigMap key the container mounts."""
    volumes = {
        volume["name"]
        for volume in pod_spec.get("volumes", [])
        if volume.get("configMap", {}).get("name") == config_map["metadata"]["name"]
    }
    mounts = [mount for mount in spec.get("volumeMounts", []) if mount["name"] in volumes]
    assert mounts, "the container does not mount the router's ConfigMap"
    return [(mount["mountPath"], key, text) for mount in mounts for key, text in config_map["data"].items()]


def _rewrite(config: str, container_port: int, port: int, upstreams: Mapping[str, int]) -> str:
    listen = f"listen {container_port} default_server;"
    assert config.count(listen) == 1, f"nginx does not listen on the declared container port {container_port}"
    config = config.replace(listen, f"listen 127.0.0.1:{port} default_server;")
    for host, local_port in upstreams.items():
        pattern = re.compile(rf"\bserver {re.escape(host)}:\d+(?=[\s;])")
        config, replaced = pattern.subn(f"server 127.0.0.1:{local_port}", config)
        assert replaced, f"no upstream server {host} in the router's config"
    left = re.findall(r"\bserver ([a-z][^:\s]*):\d+", config)
    assert not left, f"upstreams left unmapped: {left}"
    return config
