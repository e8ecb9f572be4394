"""Serving capacity of one model pod: how many requests per second the real MLflow scoring server
sustains with p95 <= 300 ms and p99 <= 500 ms.

The pod runs as its synthesized Deployment says (command, args, environment, workers, non-root,
read-only root) with the CPU quota of its CPU request, the share of a node it is guaranteed. A
reference sklearn model stands in for the team's; a team measures its own model by pointing
--model-folder at the model as `mlflow models build-docker` lays it out. vegeta sends a constant
rate (an open load, as independent callers do) in steps; each step's latencies, errors and
throughput are recorded, and the run stops after two steps in a row miss the targets.

Usage: npm run bench:serving -- [--config <folder>] [--environment <name>] [--model <name>]
         [--model-folder <path> --request <body.json>] [--rates 50,100,...] [--step-seconds N] [--output <folder>]
Defaults: the runtime tier's fixture environment and its model, the reference model, 10 s steps,
output in bench-results/ (serving.json, serving.md, serving.png).
"""

from __future__ import annotations

import argparse
import json
import os
import platform as host
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from support.assembly import Assembly  # noqa: E402
from support.cpu_limit import CpuLimit  # noqa: E402
from support.model_server import ModelPod, model_container  # noqa: E402
from support.platform import SynthFailed, synthesize  # noqa: E402
from support.processes import REPO_ROOT  # noqa: E402

P95_TARGET_MS = 300
P99_TARGET_MS = 500
MAX_ERROR_RATIO = 0.001
VEGETA = REPO_ROOT / ".runtime" / "bin" / "vegeta"
DEFAULT_RATES = [25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 800]


class BenchError(Exception):
    """A wrong argument or a missing tool; the message says which."""


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="npm run bench:serving --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=Path(__file__).parent / "fixtures", help="folder of environment files")
    parser.add_argument("--environment", help="environment file name without .yaml (default: the only one)")
    parser.add_argument("--model", help="a model version's Deployment, <model>-<version> (default: the first)")
    parser.add_argument("--model-folder", type=Path, help="an MLflow model folder (default: a reference sklearn model)")
    parser.add_argument("--request", type=Path, help="with --model-folder: a JSON request body in the scoring protocol")
    parser.add_argument("--rates", default=",".join(map(str, DEFAULT_RATES)), help="comma-separated requests per second")
    parser.add_argument("--step-seconds", type=int, default=10, help="length of each step (5 to 120)")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench-results", help="where the reports go")
    arguments = parser.parse_args(argv)
    try:
        arguments.rates = sorted({int(rate) for rate in arguments.rates.split(",")})
    except ValueError:
        raise BenchError(f"--rates must be whole numbers separated by commas, got {arguments.rates!r}") from None
    if not arguments.rates or arguments.rates[0] < 1 or arguments.rates[-1] > 5000:
        raise BenchError("--rates must lie between 1 and 5000 requests per second")
    if arguments.model_folder and not (arguments.request and (arguments.model_folder / "MLmodel").is_file()):
        raise BenchError("--model-folder must hold an MLmodel file and needs --request <JSON body>")
    if not 5 <= arguments.step_seconds <= 120:
        raise BenchError("--step-seconds must be from 5 to 120")
    return arguments


def environment_folder(config: Path, environment: str | None, scratch: Path) -> tuple[str, Path]:
    """A folder holding only the chosen environment's file, so synth builds that one stage."""
    files = sorted(config.glob("*.yaml"))
    if not files:
        raise BenchError(f"{config}: no environment files (*.yaml)")
    names = [file.stem for file in files]
    if environment is None:
        if len(files) > 1:
            raise BenchError(f"--environment is required: {config} holds {', '.join(names)}")
        environment = names[0]
    if environment not in names:
        raise BenchError(f"--environment {environment}: no {config}/{environment}.yaml (found {', '.join(names)})")
    folder = scratch / "config"
    folder.mkdir()
    shutil.copy(config / f"{environment}.yaml", folder)
    return environment, folder


def synthesize_stage(config_folder: Path, scratch: Path) -> Assembly:
    try:
        assembly = synthesize(scratch / "assembly", config_folder)
    except SynthFailed as error:
        raise BenchError(str(error)) from None
    # Only the model's command, args, environment and resources matter here.
    assembly.placeholder = "unresolved"
    return assembly


def choose_model(assembly: Assembly, model: str | None) -> tuple[str, str]:
    """The model and version to measure: --model <model>-<version>, or the first model's first version."""
    # Model versions' Deployments, each in its model's stack, not the routers in front of some of them.
    versions = [
        (o["metadata"]["labels"]["mlops.platform/model"], o["metadata"]["labels"]["mlops.platform/model-version"])
        for name, stack in assembly.stacks.items()
        if "-Model-" in name
        for o in assembly.applied_objects(stack)
        if o["kind"] == "Deployment" and "mlops.platform/model-version" in o["metadata"].get("labels", {})
    ]
    names = [f"{name}-{version}" for name, version in versions]
    if not versions:
        raise BenchError("the environment serves no model: add one to its teams[].models[]")
    if model is None:
        return versions[0]
    if model not in names:
        raise BenchError(f"--model {model}: no such model version in this environment (found {', '.join(names)})")
    return versions[names.index(model)]


def reference_model(folder: Path) -> tuple[Path, dict]:
    """A small sklearn classifier, saved as `mlflow models build-docker` lays out a model."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    features, target = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(features, target)
    path = folder / "model"
    mlflow.sklearn.save_model(model, str(path), signature=infer_signature(features, model.predict(features)))
    return path, {"dataframe_split": features.head(1).to_dict(orient="split")}


def millicores(quantity: str) -> int:
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def attack(url: str, body: Path, rate: int, seconds: int) -> dict:
    targets = body.parent / "targets.txt"
    targets.write_text(f"POST {url}/invocations\nContent-Type: application/json\n@{body}\n")
    attack_run = subprocess.Popen(
        [str(VEGETA), "attack", "-format=http", f"-targets={targets}", f"-rate={rate}/1s", f"-duration={seconds}s", "-timeout=5s"],
        stdout=subprocess.PIPE,
    )
    report = subprocess.run([str(VEGETA), "report", "-type=json"], stdin=attack_run.stdout, capture_output=True, check=True)
    attack_run.wait()
    return json.loads(report.stdout)


def step_result(rate: int, report: dict) -> dict:
    latencies = report["latencies"]
    ms = lambda key: round(latencies[key] / 1e6, 1)  # noqa: E731 (vegeta reports nanoseconds)
    errors = 1 - report["success"]
    result = {
        "rate": rate,
        "requests": report["requests"],
        "throughput": round(report["throughput"], 1),
        "p50_ms": ms("50th"),
        "p95_ms": ms("95th"),
        "p99_ms": ms("99th"),
        "max_ms": ms("max"),
        "error_ratio": round(errors, 4),
        "status_codes": report.get("status_codes", {}),
    }
    result["meets_targets"] = (
        result["p95_ms"] <= P95_TARGET_MS
        and result["p99_ms"] <= P99_TARGET_MS
        and errors <= MAX_ERROR_RATIO
        and report["throughput"] >= 0.95 * rate
    )
    return result


def write_reports(output: Path, summary: dict) -> None:
    output.mkdir(parents=True, exist_ok=True)
    (output / "serving.json").write_text(json.dumps(summary, indent=2) + "\n")
    lines = [
        f"# Serving capacity: {summary['model']} ({summary['environment']})",
        "",
        f"Sustained with p95 ≤ {P95_TARGET_MS} ms and p99 ≤ {P99_TARGET_MS} ms: "
        f"**{summary['sustained_requests_per_second']} requests per second per pod**.",
        "",
        f"- Pod: {summary['workers']} workers, CPU quota {summary['cpu_millicores']}m "
        f"({summary['cpu_enforcement']}), {summary['model_source']}.",
        f"- Machine: {summary['machine']['cpus']} CPUs ({summary['machine']['processor']}), "
        f"load generator vegeta on the same machine, {summary['step_seconds']} s per step, {summary['date']}.",
        "",
        "| rate (req/s) | throughput | p50 ms | p95 ms | p99 ms | max ms | errors | meets targets |",
        "|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for step in summary["steps"]:
        lines.append(
            f"| {step['rate']} | {step['throughput']} | {step['p50_ms']} | {step['p95_ms']} | {step['p99_ms']} "
            f"| {step['max_ms']} | {step['error_ratio']:.2%} | {'yes' if step['meets_targets'] else 'no'} |"
        )
    (output / "serving.md").write_text("\n".join(lines) + "\n")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = [step["rate"] for step in summary["steps"]]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        axes.plot(rates, [step[key] for step in summary["steps"]], marker="o", label=label)
    axes.axhline(P95_TARGET_MS, color="orange", linestyle="--", linewidth=1, label="p95 target")
    axes.axhline(P99_TARGET_MS, color="red", linestyle="--", linewidth=1, label="p99 target")
    axes.set_yscale("log")
    axes.set_xlabel("offered load (requests per second)")
    axes.set_ylabel("latency (ms, log scale)")
    axes.set_title(f"{summary['model']}: one pod, {summary['workers']} workers, {summary['cpu_millicores']}m CPU")
    axes.legend()
    axes.grid(True, which="both", alpha=0.3)
    figure.tight_layout()
    figure.savefig(output / "serving.png", dpi=110)


def run(arguments: argparse.Namespace) -> dict:
    if not VEGETA.exists():
        raise BenchError("vegeta is missing: run scripts/setup-runtime.sh")
    scratch = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    scratch.chmod(0o755)
    limit: CpuLimit | None = None
    pod: ModelPod | None = None
    try:
        environment, config_folder = environment_folder(arguments.config, arguments.environment, scratch)
        assembly = synthesize_stage(config_folder, scratch)
        model, version = choose_model(assembly, arguments.model)
        container = model_container(assembly, model, version)
        if arguments.model_folder:
            model_folder = scratch / "model"
            shutil.copytree(arguments.model_folder, model_folder)
            body = json.loads(arguments.request.read_text())
        else:
            model_folder, body = reference_model(scratch)
        for path in [scratch, *model_folder.rglob("*"), model_folder]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        request = scratch / "request.json"
        request.write_text(json.dumps(body))

        cpu = millicores(container.spec["resources"]["requests"]["cpu"])
        args = container.argv()
        workers = int(args[args.index("--workers") + 1]) if "--workers" in args else 1
        if CpuLimit.available():
            limit = CpuLimit(f"mlops-bench-{os.getpid()}", cpu)
            enforcement = "CFS quota, as the kubelet sets a CPU limit"
        else:
            enforcement = "NOT enforced: run as root with a writable cgroup file system to apply it"
        pod_scratch = scratch / "pod"
        pod_scratch.mkdir()
        pod_scratch.chmod(0o755)
        pod = ModelPod(container, model_folder, pod_scratch, launcher=limit.wrap if limit else None)
        started = pod.wait_started()
        print(f"bench:serving: {model} started in {started:.1f} s; {workers} workers, {cpu}m CPU ({enforcement})", flush=True)

        attack(pod.url, request, 20, 5)  # warm-up, not recorded
        steps, misses = [], 0
        for rate in arguments.rates:
            step = step_result(rate, attack(pod.url, request, rate, arguments.step_seconds))
            steps.append(step)
            print(
                f"  {rate:>5} req/s: p50 {step['p50_ms']} ms, p95 {step['p95_ms']} ms, p99 {step['p99_ms']} ms, "
                f"errors {step['error_ratio']:.2%}, throughput {step['throughput']}  {'ok' if step['meets_targets'] else 'MISSED'}",
                flush=True,
            )
            misses = 0 if step["meets_targets"] else misses + 1
            if misses == 2:
                break
            time.sleep(2)  # let queues drain between steps
        sustained = max((step["rate"] for step in steps if step["meets_targets"]), default=0)
        return {
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
            "environment": environment,
            "model": f"{model} {version}",
            "model_source": (
                f"model folder {arguments.model_folder.name}"
                if arguments.model_folder
                else "reference sklearn model (LogisticRegression on iris, one row per request)"
            ),
            "workers": workers,
            "cpu_millicores": cpu,
            "cpu_enforcement": enforcement,
            "throttled_seconds": round(limit.throttled_seconds(), 1) if limit else None,
            "machine": {"cpus": os.cpu_count(), "processor": host.processor() or host.machine()},
            "step_seconds": arguments.step_seconds,
            "targets": {"p95_ms": P95_TARGET_MS, "p99_ms": P99_TARGET_MS, "max_error_ratio": MAX_ERROR_RATIO},
            "steps": steps,
            "sustained_requests_per_second": sustained,
        }
    finally:
        if pod is not None:
            pod.stop()
        if limit is not None:
            limit.remove()
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str]) -> int:
    try:
        arguments = parse_arguments(argv)
        summary = run(arguments)
    except BenchError as error:
        print(f"bench:serving: {error}", file=sys.stderr)
        return 2
    write_reports(arguments.output, summary)
    print(f"bench:serving: {summary['sustained_requests_per_second']} req/s per pod; reports in {arguments.output}/serving.*")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
