"""A CPU limit for a process tree, enforced as the kubelet enforces a container's: a CFS quota
in a control group of its own. Needs root and a writable cgroup file system (v1 or v2).
"""

from __future__ import annotations

import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_MICROSECONDS = 100_000


class CpuLimit:
    def __init__(self, name: str, millicores: int):
        self.millicores = millicores
        quota = millicores * PERIOD_MICROSECONDS // 1000
        if (CGROUP_ROOT / "cgroup.controllers").exists():
            self.folder = CGROUP_ROOT / name
            self.folder.mkdir()
            (self.folder / "cpu.max").write_text(f"{quota} {PERIOD_MICROSECONDS}")
        else:
            self.folder = CGROUP_ROOT / "cpu" / name
            self.folder.mkdir()
            (self.folder / "cpu.cfs_period_us").write_text(str(PERIOD_MICROSECONDS))
            (self.folder / "cpu.cfs_quota_us").write_text(str(quota))

    @staticmethod
    def available() -> bool:
        if os.geteuid() != 0:
            return False
        parent = CGROUP_ROOT if (CGROUP_ROOT / "cgroup.controllers").exists() else CGROUP_ROOT / "cpu"
        return os.access(parent, os.W_OK)

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` started inside the group: its children inherit the limit."""
        procs = self.folder / "cgroup.procs"
        return ["sh", "-c", f'echo $$ > "{procs}" && exec "$@"', "cpu-limit", *argv]

    def throttled_seconds(self) -> float:
        """Time the group's processes waited for CPU because of the quota."""
        for line in (self.folder / "cpu.stat").read_text().splitlines():
            key, value = line.split()
            if key == "throttled_time":  # v1, nanoseconds
                return int(value) / 1e9
            if key == "throttled_usec":  # v2
                return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        try:
            self.folder.rmdir()
        except OSError:
            pass
