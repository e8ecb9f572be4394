"""Processes the runtime tests start: free ports, logs, users, and stopping them for sure."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

REPO_ROOT = Path(__file__).resolve().parents[3]

# Debian's "nobody": it has a passwd entry, which initdb needs to start.
NOBODY = 65534


def free_port() -> int:
    """A port the kernel says is free on loopback; nothing in the tests is on a fixed port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class User:
    uid: int
    gid: int

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` run as this user: through setpriv when the tests run as root."""
        if os.geteuid() != 0:
            return list(argv)
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--", *argv]


def unprivileged() -> User:
    """The user servers that refuse root run as: nobody when the tests are root, else the caller."""
    if os.geteuid() == 0:
        return User(NOBODY, NOBODY)
    return User(os.geteuid(), os.getegid())


class ManagedProcess:
    """A child in its own process group, its output in a log file, stopped with its children.

    Every one started is remembered until it is stopped, so that ``stop_all`` can end whatever a
    failed fixture or an interrupted run left behind.
    """

    _running: set["ManagedProcess"] = set()

    @classmethod
    def stop_all(cls) -> None:
        for process in list(cls._running):
            process.stop()

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ):
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")
        self.popen = subprocess.Popen(
            list(argv),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
        )
        ManagedProcess._running.add(self)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_running(self) -> None:
        if self.popen.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.popen.returncode}:\n{self.log()[-4000:]}")

    def wait(self, timeout: float) -> int:
        return self.popen.wait(timeout=timeout)

    def stop(self, grace: float = 10) -> None:
        ManagedProcess._running.discard(self)
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=grace)
        # Workers a server forked may outlive it in the group.
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()


def wait_for_http(url: str, process: ManagedProcess, timeout: float) -> float:
    """Polls ``url`` as a kubelet probe would until it answers 200; returns the seconds it took."""
    import requests

    started = time.monotonic()
    while True:
        process.check_running()
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{url} did not answer 200 within {timeout} s:\n{process.log()[-4000:]}")
        time.sleep(0.25)


atexit.register(ManagedProcess.stop_all)
