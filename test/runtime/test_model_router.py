"""A model's router (shadow and fallback) from its synthesized manifest, in front of real MLflow
scoring servers: the sampled share reaches the shadow, the primary's answers and latency do not
depend on the shadow, a failing primary is answered by the fallback, and no version at all gives a
503 with a JSON body. Figures are printed (pytest -s) and recorded in docs/design/model-router.md.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from support.assembly import find_object
from support.model_router import NGINX_ROOT, RouterPod, pinned_nginx_version, synthesize_routers
from support.processes import ManagedProcess, free_port, wait_for_http

# The Service host names the fixture routers name (test/runtime/synth-model-router.ts).
PRIMARY = "fraud-scorer-v7.fraud.svc.cluster.local"
FALLBACK = "fraud-scorer-v6.fraud.svc.cluster.local"
SHADOW = "fraud-scorer-v9.fraud.svc.cluster.local"


class ScoringServer:
    """MLflow's scoring server on one model, as the model pods start it (one worker)."""

    def __init__(self, model_folder: Path, log_folder: Path, name: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"]
        self.process = ManagedProcess(
            name,
            [*argv, "mlflow.pyfunc.scoring_server.app:app"],
            log_folder / f"{name}.log",
            env={"__pyfunc_model_path__": str(model_folder), "PYTHONUNBUFFERED": "1", "PATH": "/usr/bin:/bin"},
        )

    def scored(self) -> int:
        """Scoring requests answered so far, from the server's access log."""
        return self.process.log().count('"POST /invocations HTTP/1.1" 200')

    def stop(self) -> None:
        self.process.stop()


class FakeVersion:
    """A version that answers every request with ``status`` after ``delay`` seconds, in this process."""

    def __init__(self, status: int, delay: float):
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                fake.requests += 1
                time.sleep(delay)
                body = b'{"predictions": []}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the router gave up waiting, as it should for a slow shadow or a hung primary

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def folder(runtime_root) -> Path:
    path = runtime_root / "model-router"
    path.mkdir()
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def manifests(folder) -> dict[str, list[dict]]:
    return synthesize_routers(folder / "manifests")


@pytest.fixture(scope="module")
def sample():
    from sklearn.datasets import load_iris

    features, _ = load_iris(return_X_y=True, as_frame=True)
    return features.sample(30, random_state=11)


@pytest.fixture(scope="module")
def servers(folder, sample):
    """Real scoring servers: the primary and the shadow on one model, the fallback on another."""
    import mlflow.sklearn
    from sklearn.datasets import load_iris
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    features, target = load_iris(return_X_y=True, as_frame=True)
    models = {
        "primary": LogisticRegression(max_iter=500).fit(features, target),
        # Predicts one class whatever the input, so that its answers are told apart from the primary's.
        "fallback": DummyClassifier(strategy="constant", constant=0).fit(features, target),
    }
    for name, model in models.items():
        # Requirements given, so that MLflow does not load the model in a subprocess to infer them.
        mlflow.sklearn.save_model(model, str(folder / name), pip_requirements=["scikit-learn"])
    started = {
        "primary": ScoringServer(folder / "primary", folder, "primary"),
        "shadow": ScoringServer(folder / "primary", folder, "shadow"),
        "fallback": ScoringServer(folder / "fallback", folder, "fallback"),
    }
    try:
        for server in started.values():
            wait_for_http(f"{server.url}/ping", server.process, 60)
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(scope="module")
def start_router(manifests, folder):
    """Starts the router of one chart with its upstreams on the given ports; stops them all after."""
    routers: list[RouterPod] = []

    def start(chart: str, upstreams: dict[str, int]) -> RouterPod:
        router = RouterPod(manifests[chart], upstreams, folder)
        routers.append(router)
        router.wait_started()
        return router

    yield start
    for router in routers:
        router.stop()


def all_up(servers) -> dict[str, int]:
    """The fixture router's three Services, moved to the three running scoring servers."""
    return {PRIMARY: servers["primary"].port, FALLBACK: servers["fallback"].port, SHADOW: servers["shadow"].port}


def score(session, url: str, rows) -> requests.Response:
    return session.post(f"{url}/invocations", json={"dataframe_split": rows.to_dict(orient="split")}, timeout=30)


def latencies(urls: dict[str, str], sample, count: int) -> dict[str, list[float]]:
    """Milliseconds of ``count`` scoring requests to each URL, each on its own keep-alive session
    (the load balancer reuses its connections to a target), taking turns so that the machine's
    load weighs on every URL alike."""
    sessions = {name: requests.Session() for name in urls}
    measured: dict[str, list[float]] = {name: [] for name in urls}
    for index in range(count):
        rows = sample.iloc[[index % len(sample)]]
        for name, url in urls.items():
            started = time.perf_counter()
            response = score(sessions[name], url, rows)
            measured[name].append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
    return measured


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def test_the_tier_runs_the_nginx_version_the_image_pins():
    assert (NGINX_ROOT / "VERSION").read_text().strip() == pinned_nginx_version()


def test_the_router_starts_as_a_non_root_user_on_a_read_only_root_and_answers_its_probe(start_router, servers):
    router = start_router("router", all_up(servers))
    assert router.container.user[0] != 0
    assert router.container.read_only_root
    assert requests.get(f"{router.url}/ping", timeout=5).status_code == 200


def test_the_primary_answers_the_same_with_and_without_the_shadow(start_router, servers, sample):
    ports = {PRIMARY: servers["primary"].port, FALLBACK: servers["fallback"].port}
    with_shadow = start_router("router", {**ports, SHADOW: servers["shadow"].port})
    without_shadow = start_router("router-without-shadow", ports)
    session = requests.Session()
    for index in range(len(sample)):
        rows = sample.iloc[index : index + 3]
        direct = score(session, servers["primary"].url, rows)
        for router in (with_shadow, without_shadow):
            answer = score(session, router.url, rows)
            assert answer.status_code == 200, answer.text
            assert answer.headers["X-Model-Version"] == "v7"
            assert answer.json() == direct.json()


def test_the_sampled_share_reaches_the_shadow_within_four_standard_deviations(manifests, start_router, servers, sample):
    (config,) = find_object(manifests["router"], "ConfigMap", ".*")["data"].values()
    (percent,) = [float(share) for share in re.findall(r"^\s*([\d.]+)% 1;$", config, re.M)]
    router = start_router("router", all_up(servers))
    before = servers["shadow"].scored()
    count = 600
    latencies({"router": router.url}, sample, count)
    # nginx logs a request, and the shadow answers its copy, once the copy is done: after the answer.
    deadline = time.monotonic() + 10
    while len(router.access_log()) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    sampled = sum(1 for entry in router.access_log() if entry["shadowed"] == "1")
    while servers["shadow"].scored() - before < sampled and time.monotonic() < deadline:
        time.sleep(0.1)
    copies = servers["shadow"].scored() - before
    expected = count * percent / 100
    sigma = math.sqrt(count * percent / 100 * (1 - percent / 100))
    print(f"\nshadow copies: {copies} of {count} requests (expected {expected:.0f} ± {4 * sigma:.0f})")
    assert copies == sampled
    assert abs(copies - expected) <= 4 * sigma


def test_a_slow_or_down_shadow_adds_no_latency_to_the_primary(start_router, servers, sample):
    ports = {PRIMARY: servers["primary"].port, FALLBACK: servers["fallback"].port}
    slow = FakeVersion(200, delay=2)
    try:
        cases = {
            "primary, no router": servers["primary"].url,
            "no shadow": start_router("router-without-shadow", ports).url,
            "healthy shadow": start_router("router", {**ports, SHADOW: servers["shadow"].port}).url,
            "shadow answering in 2 s": start_router("router", {**ports, SHADOW: slow.port}).url,
            "shadow down": start_router("router", {**ports, SHADOW: free_port()}).url,
        }
        latencies(cases, sample, 10)  # warm-up: connections, the scoring server's caches
        measured = latencies(cases, sample, 200)
        assert slow.requests > 0
    finally:
        slow.stop()
    figures = {name: (statistics.median(values), percentile(values, 0.95), max(values)) for name, values in measured.items()}
    print()
    for name, (p50, p95, worst) in figures.items():
        print(f"{name:>24}: p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  max {worst:7.1f} ms")
    base_p50, base_p95, _ = figures["no shadow"]
    for name in ("shadow answering in 2 s", "shadow down"):
        p50, p95, _ = figures[name]
        # A request waiting for a copy would take the shadow's 1 s timeout; 10 % of them would show at p95.
        assert p50 - base_p50 < 20, f"{name}: p50 {p50:.1f} ms against {base_p50:.1f} ms without a shadow"
        assert p95 - base_p95 < 100, f"{name}: p95 {p95:.1f} ms against {base_p95:.1f} ms without a shadow"


def test_a_primary_answering_503_is_retried_on_the_fallback(start_router, servers, sample):
    failing = FakeVersion(503, delay=0)
    try:
        router = start_router("router-without-shadow", {PRIMARY: failing.port, FALLBACK: servers["fallback"].port})
        answer = score(requests, router.url, sample)
        assert failing.requests == 1
    finally:
        failing.stop()
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Model-Version"] == "v6"
    assert answer.json() == {"predictions": [0] * len(sample)}


def test_a_hung_primary_is_given_up_after_the_response_timeout_and_the_fallback_answers(start_router, servers, sample):
    hung = FakeVersion(200, delay=30)
    try:
        router = start_router("router-without-shadow", {PRIMARY: hung.port, FALLBACK: servers["fallback"].port})
        started = time.monotonic()
        answer = score(requests, router.url, sample)
        elapsed = time.monotonic() - started
    finally:
        hung.stop()
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Model-Version"] == "v6"
    # The fixture's response timeout is 1 s.
    assert 1 <= elapsed < 3


def test_with_every_version_down_the_router_answers_503_with_a_json_body_and_retry_after(start_router, sample):
    router = start_router("router", {PRIMARY: free_port(), FALLBACK: free_port(), SHADOW: free_port()})
    answer = score(requests, router.url, sample)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Retry-After"] == "5"
    assert "X-Model-Version" not in answer.headers
    assert answer.json()["error_code"] == "MODEL_UNAVAILABLE"
    # The router itself stays ready: the load balancer keeps it, and callers get this answer.
    assert requests.get(f"{router.url}/ping", timeout=5).status_code == 200
    (entry,) = [entry for entry in router.access_log() if entry["uri"] == "/invocations"]
    assert entry["status"] == 503 and entry["upstream_status"] == "502, 502"


def test_stopping_the_primary_moves_its_requests_to_the_fallback(start_router, servers, sample):
    # Last in this file: it stops the module's primary.
    router = start_router("router", all_up(servers))
    session = requests.Session()
    assert score(session, router.url, sample).headers["X-Model-Version"] == "v7"
    servers["primary"].stop()
    for _ in range(20):
        answer = score(session, router.url, sample)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-Model-Version"] == "v6"
        assert answer.json() == {"predictions": [0] * len(sample)}
    entries = [entry for entry in router.access_log() if entry["uri"] == "/invocations"]
    assert entries[-1]["upstream_addr"] == f"127.0.0.1:{servers['primary'].port}, 127.0.0.1:{servers['fallback'].port}"
