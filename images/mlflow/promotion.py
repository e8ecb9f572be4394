"""Promotion gate of a registered model, run after training as ``entrypoint.py promote``.

It compares the version the ``challenger`` alias points to with the ``champion``'s on one metric
of each version's source run, and moves ``champion`` to the challenger only when the challenger is
better by at least the minimum improvement (absolute, in the metric's own units). When it moves
``champion``, the former champion gets ``previous-champion``. Nothing is ever deleted. Every
decision (promoted, kept, no-decision) is a run in the decisions experiment and a tag on both
versions; serving does not follow the alias by itself: the team puts the version into config
through review (docs/mlflow.md, "Promotion gate").

Settings come from the environment, never from arguments: MLFLOW_TRACKING_URI, and the
PROMOTION_* variables read in ``Settings.from_env``. The MLflow client finds its login in
``$HOME/.mlflow/credentials`` or in MLFLOW_TRACKING_USERNAME/PASSWORD.

Usage: python entrypoint.py promote (or python promotion.py). Exit code 0 for any decision,
2 for bad settings, 1 when MLflow fails or cannot be reached.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

import steps
from steps import ConfigError, StepFailed, require_env

LOG_PREFIX = "[promotion]"

CHALLENGER = "challenger"
CHAMPION = "champion"
PREVIOUS_CHAMPION = "previous-champion"

PROMOTED = "promoted"
KEPT = "kept"
NO_DECISION = "no-decision"

# On both versions: the latest decision each took part in. The experiment keeps the history.
DECISION_TAG = "mlops.platform/promotion"
DETAIL_TAG = "mlops.platform/promotion-detail"
RUN_TAG = "mlops.platform/promotion-run"
# On the decision run.
MODEL_TAG = "mlops.platform/registered-model"
REASON_TAG = "mlops.platform/promotion-reason"

DEFAULT_EXPERIMENT = "promotions"
DIRECTIONS = ("max", "min")
# MLflow's limit on metric names.
MAX_METRIC_NAME_LENGTH = 250
# Relative tolerance of the minimum-improvement comparison.
ROUNDING = 1e-9
# Error messages from the server can quote whole HTML pages.
MAX_ERROR_LENGTH = 300


log = steps.logger(LOG_PREFIX)


def number(value: float) -> str:
    """Enough digits to tell values apart, without binary noise such as 0.007000000000000006."""
    return format(value, ".10g")


# ---------------------------------------------------------------------------------------------
# Settings


@dataclass(frozen=True)
class Settings:
    tracking_uri: str
    model: str
    metric: str
    direction: str
    min_improvement: float
    experiment: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Settings":
        tracking_uri = require_env(environ, "MLFLOW_TRACKING_URI")
        parts = urlsplit(tracking_uri)
        if parts.username or parts.password:
            # The URI is not repeated: its login part is a secret.
            raise ConfigError(
                "MLFLOW_TRACKING_URI must not carry a login: the client reads it from $HOME/.mlflow/credentials "
                "or MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD"
            )
        metric = require_env(environ, "PROMOTION_METRIC")
        if len(metric) > MAX_METRIC_NAME_LENGTH or any(character in metric for character in "\r\n"):
            raise ConfigError(f"PROMOTION_METRIC must be an MLflow metric name of at most {MAX_METRIC_NAME_LENGTH} characters on one line")
        direction = require_env(environ, "PROMOTION_DIRECTION")
        if direction not in DIRECTIONS:
            raise ConfigError(f"PROMOTION_DIRECTION must be max (higher is better) or min (lower is better), got {direction!r}")
        text = environ.get("PROMOTION_MIN_IMPROVEMENT", "").strip() or "0"
        try:
            min_improvement = float(text)
        except ValueError:
            min_improvement = math.nan
        if not math.isfinite(min_improvement) or min_improvement < 0:
            raise ConfigError(
                f"PROMOTION_MIN_IMPROVEMENT must be a number >= 0, in the metric's own units, got {text!r}"
            )
        return cls(
            tracking_uri=tracking_uri,
            model=require_env(environ, "PROMOTION_REGISTERED_MODEL"),
            metric=metric,
            direction=direction,
            min_improvement=min_improvement,
            experiment=environ.get("PROMOTION_EXPERIMENT", "").strip() or DEFAULT_EXPERIMENT,
        )


# ---------------------------------------------------------------------------------------------
# Deciding


@dataclass(frozen=True)
class Candidate:
    """One aliased version and its metric, or why the metric cannot be had."""

    alias: str
    version: str
    run_id: str
    value: float | None
    missing: str
    tags: Mapping[str, str]

    def describe(self, metric: str) -> str:
        shown = number(self.value) if self.value is not None else "missing"
        return f"{self.alias} version {self.version} {metric}={shown}"


@dataclass(frozen=True)
class Decision:
    outcome: str
    reason: str
    # How much better the challenger is in the chosen direction; None without two values.
    delta: float | None = None


def decide(settings: Settings, challenger: Candidate, champion: Candidate | None) -> Decision:
    """The gate's rule. A challenger without the metric is never promoted."""
    if challenger.value is None:
        return Decision(NO_DECISION, challenger.missing)
    if champion is None:
        return Decision(PROMOTED, f"there is no {CHAMPION} yet")
    if champion.value is None:
        return Decision(NO_DECISION, champion.missing)
    if settings.direction == "max":
        delta = challenger.value - champion.value
    else:
        delta = champion.value - challenger.value
    rule = f"delta {number(delta)}, needs more than 0 and at least {number(settings.min_improvement)}"
    # 0.85 - 0.80 is 0.04999999999999993 in binary floating point: a difference within rounding of
    # the minimum counts as reaching it.
    reaches = delta >= settings.min_improvement or math.isclose(delta, settings.min_improvement, rel_tol=ROUNDING)
    if delta > 0 and reaches:
        return Decision(PROMOTED, f"better: {rule}", delta)
    return Decision(KEPT, f"not better enough: {rule}", delta)


def detail(settings: Settings, challenger: Candidate, champion: Candidate | None, decision: Decision) -> str:
    """One line naming both versions, their values, the rule and the decision. The same inputs
    give the same line, so a re-run can tell that it would record nothing new."""
    against = champion.describe(settings.metric) if champion else f"no {CHAMPION}"
    return (
        f"{decision.outcome}: {challenger.describe(settings.metric)} vs {against} "
        f"({settings.direction}, min improvement {number(settings.min_improvement)}): {decision.reason}"
    )


# ---------------------------------------------------------------------------------------------
# MLflow


def mlflow_call(what: str, function, *args, **kwargs):
    """Runs one client call; MLflow's error becomes a one-line StepFailed."""
    from mlflow.exceptions import MlflowException

    try:
        return function(*args, **kwargs)
    except MlflowException as error:
        raise StepFailed(f"{what}: {error_summary(error)}") from None


def error_summary(error) -> str:
    lines = str(getattr(error, "message", "") or error).strip().splitlines()
    return f"{error.error_code} {lines[0][:MAX_ERROR_LENGTH] if lines else ''}".strip()


def read_candidate(client, settings: Settings, alias: str) -> Candidate:
    from mlflow.exceptions import MlflowException

    version = mlflow_call(
        f"could not resolve alias {alias} of {settings.model}", client.get_model_version_by_alias, settings.model, alias
    )
    named = f"{alias} version {version.version}"

    def without_value(missing: str) -> Candidate:
        return Candidate(alias, str(version.version), version.run_id or "", None, missing, dict(version.tags or {}))

    if not version.run_id:
        return without_value(f"{named} has no source run")
    try:
        run = client.get_run(version.run_id)
    except MlflowException as error:
        if error.error_code != "RESOURCE_DOES_NOT_EXIST":
            raise StepFailed(f"could not read run {version.run_id} of {named}: {error_summary(error)}") from None
        return without_value(f"the source run {version.run_id} of {named} no longer exists")
    value = run.data.metrics.get(settings.metric)
    if value is None:
        return without_value(f"the source run {version.run_id} of {named} has no metric {settings.metric}")
    if not math.isfinite(value):
        return without_value(f"{named} has {settings.metric}={value}, not a finite number")
    return Candidate(alias, str(version.version), version.run_id, float(value), "", dict(version.tags or {}))


def decisions_experiment(client, name: str) -> str:
    """The id of the decisions experiment, created on first use."""
    from mlflow.exceptions import MlflowException

    experiment = mlflow_call(f"could not look up experiment {name!r}", client.get_experiment_by_name, name)
    if experiment is None:
        try:
            return client.create_experiment(name)
        except MlflowException as error:
            # Another gate created it in between.
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise StepFailed(f"could not create experiment {name!r}: {error_summary(error)}") from None
            experiment = mlflow_call(f"could not look up experiment {name!r}", client.get_experiment_by_name, name)
    if experiment.lifecycle_stage != "active":
        raise StepFailed(f"experiment {name!r} is deleted: restore it or set PROMOTION_EXPERIMENT to another name")
    return experiment.experiment_id


def record(client, settings: Settings, challenger: Candidate, champion: Candidate | None, decision: Decision) -> str:
    """Starts the decision's run with what was compared; returns its id."""
    from mlflow.entities import Metric, Param

    experiment_id = decisions_experiment(client, settings.experiment)
    run = mlflow_call(
        f"could not create a run in experiment {settings.experiment!r}",
        client.create_run,
        experiment_id,
        run_name=f"{settings.model} v{challenger.version}",
        tags={MODEL_TAG: settings.model, DECISION_TAG: decision.outcome, REASON_TAG: decision.reason},
    )
    params = {
        "registered_model": settings.model,
        "challenger_version": challenger.version,
        "champion_version": champion.version if champion else "none",
        "metric": settings.metric,
        "direction": settings.direction,
        "min_improvement": number(settings.min_improvement),
    }
    values = {
        "challenger_value": challenger.value,
        "champion_value": champion.value if champion else None,
        "delta": decision.delta,
    }
    now = int(time.time() * 1000)
    mlflow_call(
        f"could not log to run {run.info.run_id}",
        client.log_batch,
        run.info.run_id,
        metrics=[Metric(key, value, now, 0) for key, value in values.items() if value is not None],
        params=[Param(key, value) for key, value in params.items()],
    )
    return run.info.run_id


def apply(client, settings: Settings, challenger: Candidate, champion: Candidate | None, decision: Decision, run_id: str, line: str) -> None:
    """Moves the aliases (when promoted), then tags both versions; tags come last so a re-run after
    a failure half-way does not take the decision as already made."""
    if decision.outcome == PROMOTED:
        mlflow_call(
            f"could not point {CHAMPION} at version {challenger.version}",
            client.set_registered_model_alias,
            settings.model,
            CHAMPION,
            challenger.version,
        )
        if champion is not None:
            mlflow_call(
                f"could not point {PREVIOUS_CHAMPION} at version {champion.version}",
                client.set_registered_model_alias,
                settings.model,
                PREVIOUS_CHAMPION,
                champion.version,
            )
    tags = {DECISION_TAG: decision.outcome, DETAIL_TAG: line, RUN_TAG: run_id}
    for candidate in (challenger, champion):
        if candidate is None:
            continue
        for key, value in tags.items():
            mlflow_call(
                f"could not tag version {candidate.version}",
                client.set_model_version_tag,
                settings.model,
                candidate.version,
                key,
                value,
            )


def promote(environ: Mapping[str, str]) -> None:
    settings = Settings.from_env(environ)

    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=settings.tracking_uri, registry_uri=settings.tracking_uri)
    try:
        model = client.get_registered_model(settings.model)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise ConfigError(f"PROMOTION_REGISTERED_MODEL names {settings.model!r}, which is not a registered model") from None
        raise StepFailed(f"could not read registered model {settings.model!r}: {error_summary(error)}") from None
    if CHALLENGER not in model.aliases:
        raise StepFailed(f"registered model {settings.model!r} has no alias {CHALLENGER}: the training step sets it on the version to judge")

    challenger = read_candidate(client, settings, CHALLENGER)
    champion = read_candidate(client, settings, CHAMPION) if CHAMPION in model.aliases else None
    if champion is not None and champion.version == challenger.version:
        log(f"{settings.model}: no change: {CHAMPION} and {CHALLENGER} are both version {challenger.version}")
        return

    decision = decide(settings, challenger, champion)
    line = detail(settings, challenger, champion, decision)
    if challenger.tags.get(DETAIL_TAG) == line:
        log(f"{settings.model}: no change: already recorded in run {challenger.tags.get(RUN_TAG)}: {line}")
        return

    run_id = record(client, settings, challenger, champion, decision)
    try:
        apply(client, settings, challenger, champion, decision, run_id, line)
    except StepFailed:
        # Best effort: the run then shows the decision was not carried out.
        try:
            client.set_terminated(run_id, "FAILED")
        except MlflowException:
            pass
        raise
    mlflow_call(f"could not finish run {run_id}", client.set_terminated, run_id, "FINISHED")

    moved = ""
    if decision.outcome == PROMOTED:
        moved = f"; {CHAMPION} -> version {challenger.version}"
        if champion is not None:
            moved += f", {PREVIOUS_CHAMPION} -> version {champion.version}"
    log(f"{settings.model}: {line}{moved}; recorded in run {run_id} of experiment {settings.experiment!r}")


def main(environ: Mapping[str, str]) -> int:
    return steps.run(promote, environ, log)


def command(environ: Mapping[str, str]) -> None:
    """``entrypoint.py promote``: exits with main's code, so that the gate's errors are logged under its own prefix."""
    code = main(environ)
    if code:
        raise SystemExit(code)


if __name__ == "__main__":
    sys.exit(main(os.environ))
