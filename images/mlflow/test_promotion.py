"""Tests of promotion.py against a real MLflow tracking store and model registry (SQLite in the
test's temporary folder): registered models with versions from runs that logged metrics, the
aliases the training step sets, then the gate.

Run from the repository root with the runtime tier's Python, which has the image's MLflow:
.runtime/venv/bin/python -m pytest -p no:cacheprovider images/mlflow/test_promotion.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import unittest
from pathlib import Path

try:
    import mlflow  # noqa: F401
    import pytest
except ImportError as missing:
    # A skip rather than an error for `python3 -m unittest discover -s images/mlflow`, which runs
    # test_entrypoint.py without either.
    raise unittest.SkipTest(f"needs pytest and MLflow ({missing.name} is missing): run it with the runtime tier's Python") from None

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import promotion  # noqa: E402
from mlflow.tracking import MlflowClient  # noqa: E402

METRIC = "val_auc"


class Store:
    """One SQLite tracking store and registry for the module; each test uses its own model names."""

    def __init__(self, folder: Path):
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.training = self.client.create_experiment("training", artifact_location=(folder / "artifacts").as_uri())

    def model(self, name: str, *metrics: dict) -> list[str]:
        """Registers one version per metrics dict, each from its own finished training run."""
        self.client.create_registered_model(name)
        versions = []
        for values in metrics:
            run = self.client.create_run(self.training)
            for key, value in values.items():
                self.client.log_metric(run.info.run_id, key, value)
            self.client.set_terminated(run.info.run_id)
            version = self.client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id)
            versions.append(str(version.version))
        return versions

    def alias(self, name: str, alias: str, version: str) -> None:
        self.client.set_registered_model_alias(name, alias, version)

    def aliases(self, name: str) -> dict[str, str]:
        return {alias: str(version) for alias, version in self.client.get_registered_model(name).aliases.items()}

    def tags(self, name: str, version: str) -> dict[str, str]:
        return self.client.get_model_version(name, version).tags

    def decisions(self, name: str, experiment: str = promotion.DEFAULT_EXPERIMENT) -> list:
        found = self.client.get_experiment_by_name(experiment)
        if found is None:
            return []
        return self.client.search_runs(
            [found.experiment_id], filter_string=f"tags.`{promotion.MODEL_TAG}` = '{name}'", order_by=["attributes.start_time ASC"]
        )

    def env(self, name: str, **overrides: str) -> dict[str, str]:
        return {
            "MLFLOW_TRACKING_URI": self.uri,
            "PROMOTION_REGISTERED_MODEL": name,
            "PROMOTION_METRIC": METRIC,
            "PROMOTION_DIRECTION": "max",
            "PROMOTION_MIN_IMPROVEMENT": "0.05",
            **overrides,
        }


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Store:
    return Store(tmp_path_factory.mktemp("mlflow"))


def promote(capsys, environ: dict[str, str]) -> tuple[int, list[str]]:
    """Runs the gate; returns its exit code and its own log lines."""
    code = promotion.main(environ)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith(promotion.LOG_PREFIX)]
    return code, lines


def champion_and_challenger(store: Store, name: str, champion: float, challenger: float) -> tuple[str, str]:
    old, new = store.model(name, {METRIC: champion}, {METRIC: challenger})
    store.alias(name, "champion", old)
    store.alias(name, "challenger", new)
    return old, new


def test_a_challenger_better_by_the_minimum_becomes_champion_and_the_old_one_previous_champion(store, capsys):
    old, new = champion_and_challenger(store, "better", 0.80, 0.85)

    code, lines = promote(capsys, store.env("better"))

    assert code == 0
    assert store.aliases("better") == {"champion": new, "challenger": new, "previous-champion": old}
    # Nothing is deleted: both versions and their runs stay.
    assert store.client.get_model_version("better", old).run_id
    (decision,) = store.decisions("better")
    assert decision.info.status == "FINISHED"
    assert decision.data.tags[promotion.DECISION_TAG] == "promoted"
    assert decision.data.params == {
        "registered_model": "better",
        "challenger_version": new,
        "champion_version": old,
        "metric": METRIC,
        "direction": "max",
        "min_improvement": "0.05",
    }
    assert decision.data.metrics["challenger_value"] == 0.85
    assert decision.data.metrics["champion_value"] == 0.80
    assert decision.data.metrics["delta"] == pytest.approx(0.05)
    for version in (old, new):
        tags = store.tags("better", version)
        assert tags[promotion.DECISION_TAG] == "promoted"
        assert tags[promotion.RUN_TAG] == decision.info.run_id
        assert f"challenger version {new} {METRIC}=0.85 vs champion version {old} {METRIC}=0.8" in tags[promotion.DETAIL_TAG]
    assert len(lines) == 1
    assert lines[0].startswith("[promotion] better: promoted: ")
    assert f"champion -> version {new}, previous-champion -> version {old}; recorded in run {decision.info.run_id}" in lines[0]


def test_a_challenger_better_by_less_than_the_minimum_is_recorded_as_kept_and_moves_no_alias(store, capsys):
    old, new = champion_and_challenger(store, "not-enough", 0.80, 0.84)

    code, lines = promote(capsys, store.env("not-enough"))

    assert code == 0
    assert store.aliases("not-enough") == {"champion": old, "challenger": new}
    (decision,) = store.decisions("not-enough")
    assert decision.data.tags[promotion.DECISION_TAG] == "kept"
    assert decision.data.metrics["delta"] == pytest.approx(0.04)
    for version in (old, new):
        assert store.tags("not-enough", version)[promotion.DECISION_TAG] == "kept"
    assert len(lines) == 1 and "not-enough: kept: " in lines[0] and "not better enough" in lines[0]


@pytest.mark.parametrize(
    "direction, champion, challenger, expected",
    [
        ("min", 0.30, 0.20, "promoted"),
        ("max", 0.30, 0.20, "kept"),
        ("min", 0.20, 0.30, "kept"),
        ("max", 0.30, 0.30, "kept"),
    ],
)
def test_the_direction_says_which_way_is_better(store, capsys, direction, champion, challenger, expected):
    name = f"direction-{direction}-{champion}-{challenger}"
    old, new = champion_and_challenger(store, name, champion, challenger)

    code, _ = promote(capsys, store.env(name, PROMOTION_DIRECTION=direction, PROMOTION_MIN_IMPROVEMENT="0"))

    assert code == 0
    assert store.decisions(name)[0].data.tags[promotion.DECISION_TAG] == expected
    assert store.aliases(name)["champion"] == (new if expected == "promoted" else old)


@pytest.mark.parametrize("missing_on", ["challenger", "champion"])
def test_a_missing_metric_records_no_decision_with_the_reason_and_moves_no_alias(store, capsys, missing_on):
    name = f"missing-on-{missing_on}"
    metrics = {"champion": {METRIC: 0.5}, "challenger": {METRIC: 0.9}}
    metrics[missing_on] = {"loss": 0.1}
    old, new = store.model(name, metrics["champion"], metrics["challenger"])
    store.alias(name, "champion", old)
    store.alias(name, "challenger", new)

    code, lines = promote(capsys, store.env(name))

    assert code == 0
    assert store.aliases(name) == {"champion": old, "challenger": new}
    (decision,) = store.decisions(name)
    assert decision.data.tags[promotion.DECISION_TAG] == "no-decision"
    assert f"{missing_on} version" in decision.data.tags[promotion.REASON_TAG]
    assert f"has no metric {METRIC}" in decision.data.tags[promotion.REASON_TAG]
    assert "delta" not in decision.data.metrics
    for version in (old, new):
        assert store.tags(name, version)[promotion.DECISION_TAG] == "no-decision"
    assert len(lines) == 1 and f"{name}: no-decision: " in lines[0]


def test_a_metric_that_is_not_a_number_counts_as_missing(store, capsys):
    old, new = champion_and_challenger(store, "nan-metric", 0.5, float("nan"))

    code, lines = promote(capsys, store.env("nan-metric"))

    assert code == 0
    assert store.aliases("nan-metric")["champion"] == old
    assert store.decisions("nan-metric")[0].data.tags[promotion.REASON_TAG] == f"challenger version {new} has {METRIC}=nan, not a finite number"


def test_without_a_champion_the_challenger_is_promoted(store, capsys):
    (first,) = store.model("first-model", {METRIC: 0.7})
    store.alias("first-model", "challenger", first)

    code, lines = promote(capsys, store.env("first-model"))

    assert code == 0
    assert store.aliases("first-model") == {"champion": first, "challenger": first}
    (decision,) = store.decisions("first-model")
    assert decision.data.tags[promotion.DECISION_TAG] == "promoted"
    assert decision.data.params["champion_version"] == "none"
    assert decision.data.metrics == {"challenger_value": 0.7}
    assert store.tags("first-model", first)[promotion.DECISION_TAG] == "promoted"
    assert len(lines) == 1 and "there is no champion yet" in lines[0] and "previous-champion" not in lines[0]


def test_without_a_champion_a_challenger_without_the_metric_is_not_promoted(store, capsys):
    (first,) = store.model("first-unmeasured", {"loss": 0.2})
    store.alias("first-unmeasured", "challenger", first)

    code, _ = promote(capsys, store.env("first-unmeasured"))

    assert code == 0
    assert store.aliases("first-unmeasured") == {"challenger": first}
    assert store.decisions("first-unmeasured")[0].data.tags[promotion.DECISION_TAG] == "no-decision"


def test_a_rerun_after_a_promotion_changes_and_records_nothing(store, capsys):
    old, new = champion_and_challenger(store, "rerun-promoted", 0.6, 0.9)
    assert promote(capsys, store.env("rerun-promoted"))[0] == 0
    tags_before = {version: store.tags("rerun-promoted", version) for version in (old, new)}

    code, lines = promote(capsys, store.env("rerun-promoted"))

    assert code == 0
    assert lines == [f"[promotion] rerun-promoted: no change: champion and challenger are both version {new}"]
    assert len(store.decisions("rerun-promoted")) == 1
    assert {version: store.tags("rerun-promoted", version) for version in (old, new)} == tags_before


def test_a_rerun_after_champion_was_pointed_back_by_hand_leaves_it_there(store, capsys):
    old, new = champion_and_challenger(store, "rolled-back", 0.6, 0.9)
    assert promote(capsys, store.env("rolled-back"))[0] == 0
    store.alias("rolled-back", "champion", store.aliases("rolled-back")["previous-champion"])

    code, lines = promote(capsys, store.env("rolled-back"))

    assert code == 0
    assert len(lines) == 1 and "no change: already recorded in run" in lines[0]
    assert store.aliases("rolled-back")["champion"] == old
    assert len(store.decisions("rolled-back")) == 1


def test_a_rerun_of_the_same_comparison_records_nothing_new_and_a_changed_rule_decides_again(store, capsys):
    old, new = champion_and_challenger(store, "rerun-kept", 0.80, 0.84)
    assert promote(capsys, store.env("rerun-kept"))[0] == 0
    (first,) = store.decisions("rerun-kept")

    code, lines = promote(capsys, store.env("rerun-kept"))

    assert code == 0
    assert len(lines) == 1 and f"no change: already recorded in run {first.info.run_id}" in lines[0]
    assert len(store.decisions("rerun-kept")) == 1

    code, _ = promote(capsys, store.env("rerun-kept", PROMOTION_MIN_IMPROVEMENT="0.01"))

    assert code == 0
    assert [run.data.tags[promotion.DECISION_TAG] for run in store.decisions("rerun-kept")] == ["kept", "promoted"]
    assert store.aliases("rerun-kept")["champion"] == new


def test_decisions_go_to_the_experiment_named_in_the_settings(store, capsys):
    champion_and_challenger(store, "own-experiment", 0.1, 0.9)

    code, _ = promote(capsys, store.env("own-experiment", PROMOTION_EXPERIMENT="fraud/promotions"))

    assert code == 0
    assert store.decisions("own-experiment") == []
    assert len(store.decisions("own-experiment", "fraud/promotions")) == 1


def test_a_model_without_a_challenger_is_an_error(store, capsys):
    (only,) = store.model("no-challenger", {METRIC: 0.7})
    store.alias("no-challenger", "champion", only)

    code, lines = promote(capsys, store.env("no-challenger"))

    assert code == 1
    assert lines == ["[promotion] failed: registered model 'no-challenger' has no alias challenger: the training step sets it on the version to judge"]
    assert store.aliases("no-challenger") == {"champion": only}


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"PROMOTION_DIRECTION": "up"}, "PROMOTION_DIRECTION must be max (higher is better) or min (lower is better), got 'up'"),
        ({"PROMOTION_MIN_IMPROVEMENT": "-0.1"}, "PROMOTION_MIN_IMPROVEMENT must be a number >= 0, in the metric's own units, got '-0.1'"),
        ({"PROMOTION_MIN_IMPROVEMENT": "5%"}, "PROMOTION_MIN_IMPROVEMENT must be a number >= 0, in the metric's own units, got '5%'"),
        ({"PROMOTION_MIN_IMPROVEMENT": "nan"}, "PROMOTION_MIN_IMPROVEMENT must be a number >= 0, in the metric's own units, got 'nan'"),
        ({"PROMOTION_METRIC": ""}, "missing required environment variable PROMOTION_METRIC"),
        ({"PROMOTION_REGISTERED_MODEL": "nobody-registered-this"}, "PROMOTION_REGISTERED_MODEL names 'nobody-registered-this', which is not a registered model"),
    ],
)
def test_bad_settings_exit_2_with_one_line_naming_the_variable(store, capsys, overrides, message):
    code, lines = promote(capsys, store.env("anything", **overrides))

    assert code == 2
    assert lines == [f"[promotion] configuration error: {message}"]


def test_a_tracking_uri_with_a_login_is_refused_without_repeating_it(capsys):
    environ = {
        "MLFLOW_TRACKING_URI": "https://team-fraud:s3cret-Pa55@mlflow.example.com",
        "PROMOTION_REGISTERED_MODEL": "fraud-scorer",
        "PROMOTION_METRIC": METRIC,
        "PROMOTION_DIRECTION": "max",
    }

    code, lines = promote(capsys, environ)

    assert code == 2
    assert len(lines) == 1 and "MLFLOW_TRACKING_URI must not carry a login" in lines[0]
    assert "s3cret-Pa55" not in lines[0]


def run_entrypoint(environ: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HERE / "entrypoint.py"), "promote"],
        env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **environ},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_image_entrypoint_runs_the_gate(store):
    old, new = champion_and_challenger(store, "via-entrypoint", 0.2, 0.4)

    completed = run_entrypoint(store.env("via-entrypoint"))

    assert completed.returncode == 0, completed.stderr
    assert "[promotion] via-entrypoint: promoted: " in completed.stderr
    assert store.aliases("via-entrypoint")["champion"] == new


def test_an_unreachable_server_exits_1_with_one_line(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environ = {
        "MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
        "MLFLOW_TRACKING_USERNAME": "team-fraud",
        "MLFLOW_TRACKING_PASSWORD": "s3cret-Pa55",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
        "PROMOTION_REGISTERED_MODEL": "fraud-scorer",
        "PROMOTION_METRIC": METRIC,
        "PROMOTION_DIRECTION": "max",
    }

    completed = run_entrypoint(environ)

    assert completed.returncode == 1
    lines = [line for line in completed.stderr.splitlines() if line.startswith(promotion.LOG_PREFIX)]
    assert len(lines) == 1 and lines[0].startswith("[promotion] failed: could not read registered model 'fraud-scorer': ")
    assert "s3cret-Pa55" not in completed.stderr
