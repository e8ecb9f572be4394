"""MLflow's team users: the user sync Job run with the args and environment of its synthesized
manifest against the real MLflow server (basic auth, PostgreSQL) and Secrets Manager on loopback,
then what those users may and may not do, and a team job that logs in with the credentials file
its init step writes. The tests run in file order: later ones build on what earlier syncs did.
"""

from __future__ import annotations

import json
import os
import stat

import pytest

from support.team_accounts import MlflowRest, SyncRun, run_team_job, sync_container, synthesize_team_job

USERS_CURRENT = "/api/2.0/mlflow/users/current"


class Accounts:
    """The sync Job's team list, each team's login from its secret, and every sync's log."""

    def __init__(self, platform, mlflow):
        self.platform = platform
        self.mlflow = mlflow
        self.env = sync_container(platform).manifest_env()
        self.teams = json.loads(self.env["MLFLOW_TEAMS"])
        self.logins = {}
        for team in self.teams:
            secret = platform.secret(team["secretId"])
            self.logins[team["team"]] = (secret["username"], secret["password"])
        self.admin = MlflowRest(mlflow, mlflow.admin)
        self.runs: list[SyncRun] = []

    def sync(self, name: str, teams: list[dict] | None = None) -> SyncRun:
        run = SyncRun.run(self.platform, self.mlflow, name, teams)
        self.runs.append(run)
        assert run.exit_code == 0, run.log
        return run

    def rest(self, team: str) -> MlflowRest:
        return MlflowRest(self.mlflow, self.logins[team])

    def grants(self, team: str) -> dict[tuple[str, str], str]:
        rows = self.admin.ok("GET", "/api/3.0/mlflow/users/permissions/list", params={"username": self.logins[team][0]})["permissions"]
        return {(row["resource_type"], row["resource_pattern"]): row["permission"] for row in rows}

    def create_experiment(self, rest: MlflowRest, name: str) -> str:
        return rest.ok("POST", "/api/2.0/mlflow/experiments/create", json={"name": name})["experiment_id"]


@pytest.fixture(scope="module")
def accounts(platform, mlflow) -> Accounts:
    created = Accounts(platform, mlflow)
    # Other modules' jobs (training, drift) may have synced the team users on this server already:
    # start from none, so the first sync here is a first sync.
    for username, _ in created.logins.values():
        created.admin.call("DELETE", "/api/2.0/mlflow/users/delete", json={"username": username})
    created.sync("sync-first")
    return created


def test_the_sync_job_names_each_team_secret_by_arn_and_holds_no_password(platform, accounts):
    assert [team["team"] for team in accounts.teams] == ["fraud", "risk"]
    assert [team["registeredModels"] for team in accounts.teams] == [["fraud-scorer"], []]
    for team in accounts.teams:
        assert team["secretId"].startswith(f"arn:aws:secretsmanager:{platform.assembly.region}:")
        assert f"/mlflow/teams/{team['team']}-" in team["secretId"]
    container = sync_container(platform)
    assert container.spec["args"] == ["sync-users"]
    manifest = json.dumps(container.spec)
    assert not [name for name, password in accounts.logins.values() if password in manifest]


def test_the_first_sync_creates_a_user_per_team_that_logs_in_with_its_secret(accounts):
    first = accounts.runs[0].log
    for team, (username, _) in accounts.logins.items():
        assert f"{username}: created, with the password from its secret" in first, first
        assert accounts.rest(team).ok("GET", USERS_CURRENT)["user"]["username"] == username


def test_a_team_user_creates_an_experiment_and_registers_a_model_it_then_manages(accounts):
    fraud = accounts.rest("fraud")
    experiment = accounts.create_experiment(fraud, "fraud/accounts-test")
    run = fraud.ok("POST", "/api/2.0/mlflow/runs/create", json={"experiment_id": experiment})["run"]
    fraud.ok("POST", "/api/2.0/mlflow/runs/log-parameter", json={"run_id": run["info"]["run_id"], "key": "k", "value": "v"})
    fraud.ok("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "fraud-accounts-model"})
    # MLflow makes the creator a manager of what it creates.
    grants = accounts.grants("fraud")
    assert grants[("experiment", experiment)] == "MANAGE"
    assert grants[("registered_model", "fraud-accounts-model")] == "MANAGE"
    fraud.ok("POST", "/api/2.0/mlflow/experiments/set-experiment-tag", json={"experiment_id": experiment, "key": "owner", "value": "fraud"})


def test_a_team_user_manages_the_registered_models_its_config_serves(accounts):
    assert accounts.grants("fraud")[("registered_model", "fraud-scorer")] == "MANAGE"
    # Whoever registers it (a data scientist, say), the team's user may change it.
    response = accounts.admin.call("POST", "/api/2.0/mlflow/registered-models/create", json={"name": "fraud-scorer"})
    assert response.status_code == 200 or "RESOURCE_ALREADY_EXISTS" in response.text, response.text
    accounts.rest("fraud").ok(
        "PATCH", "/api/2.0/mlflow/registered-models/update", json={"name": "fraud-scorer", "description": "served by team fraud"}
    )
    assert accounts.rest("risk").call(
        "PATCH", "/api/2.0/mlflow/registered-models/update", json={"name": "fraud-scorer", "description": "not yours"}
    ).status_code == 403


def test_a_team_user_reads_but_cannot_change_another_teams_experiment(accounts):
    experiment = accounts.create_experiment(accounts.rest("risk"), "risk/limits")
    fraud = accounts.rest("fraud")
    assert fraud.ok("GET", "/api/2.0/mlflow/experiments/get", params={"experiment_id": experiment})["experiment"]["name"] == "risk/limits"
    for path, body in (
        ("/api/2.0/mlflow/experiments/set-experiment-tag", {"experiment_id": experiment, "key": "owner", "value": "fraud"}),
        ("/api/2.0/mlflow/runs/create", {"experiment_id": experiment}),
        ("/api/2.0/mlflow/experiments/update", {"experiment_id": experiment, "new_name": "fraud/taken"}),
        ("/api/2.0/mlflow/experiments/delete", {"experiment_id": experiment}),
    ):
        response = fraud.call("POST", path, json=body)
        assert response.status_code == 403, f"{path}: {response.status_code} {response.text[:300]}"


def test_a_sync_grants_experiments_named_after_the_team_and_a_second_one_changes_nothing(accounts):
    experiment = accounts.create_experiment(accounts.admin, "fraud/made-by-admin")
    fraud = accounts.rest("fraud")
    tag = {"experiment_id": experiment, "key": "owner", "value": "fraud"}
    assert fraud.call("POST", "/api/2.0/mlflow/experiments/set-experiment-tag", json=tag).status_code == 403

    granting = accounts.sync("sync-grants").log
    assert "team-fraud: granted MANAGE on experiment 'fraud/made-by-admin'" in granting, granting
    assert "created" not in granting and "set its password" not in granting, granting
    fraud.ok("POST", "/api/2.0/mlflow/experiments/set-experiment-tag", json=tag)

    again = accounts.sync("sync-again").log
    assert "2 team users in sync (0 changes), 0 disabled" in again, again
    assert "granted" not in again and "created" not in again and "set its password" not in again, again
    for username, _ in accounts.logins.values():
        assert f"{username}: exists and its password is the one in its secret" in again, again


def test_a_team_removed_from_the_list_has_its_user_disabled_until_it_is_listed_again(accounts):
    risk = accounts.rest("risk")
    grants = accounts.grants("risk")
    fewer = accounts.sync("sync-without-risk", [team for team in accounts.teams if team["team"] != "risk"]).log
    assert "team-risk: disabled, as its team is not listed" in fewer, fewer
    assert risk.call("GET", USERS_CURRENT).status_code == 401
    assert accounts.rest("fraud").call("GET", USERS_CURRENT).status_code == 200
    # Running it again keeps the user disabled.
    accounts.sync("sync-without-risk-again", [team for team in accounts.teams if team["team"] != "risk"])
    assert risk.call("GET", USERS_CURRENT).status_code == 401
    assert accounts.grants("risk") == grants

    restored = accounts.sync("sync-with-risk-again").log
    assert "team-risk: set its password from its secret" in restored, restored
    assert risk.ok("GET", USERS_CURRENT)["user"]["username"] == "team-risk"


def test_no_sync_prints_a_password(platform, accounts):
    passwords = [password for _, password in accounts.logins.values()] + [accounts.mlflow.admin[1]]
    assert len(accounts.runs) >= 5
    for run in accounts.runs:
        assert not [password for password in passwords if password in run.log]


def test_a_team_job_logs_a_run_as_its_team_user_with_the_file_its_init_step_writes(platform, accounts, runtime_root):
    (fraud,) = [team for team in accounts.teams if team["team"] == "fraud"]
    image = sync_container(platform).spec["image"]
    job = synthesize_team_job(runtime_root / "team-job", image, fraud["secretId"], platform.assembly.region)
    init_env = {variable["name"]: variable["value"] for variable in job["spec"]["template"]["spec"]["initContainers"][0]["env"]}
    assert init_env["MLFLOW_CREDENTIALS_SECRET_ARN"] == fraud["secretId"]

    run = run_team_job(platform, accounts.mlflow, job, {"experiment": "fraud/team-job", "registered_model": "fraud-team-job-model"})
    assert run.init_exit_code == 0, run.init_log
    assert "wrote the MLflow login of team-fraud to /home/mlflow/.mlflow/credentials (mode 0600)" in run.init_log
    assert accounts.logins["fraud"][1] not in run.init_log + run.job_log
    written = run.folder / "volume-0" / ".mlflow" / "credentials"
    assert stat.S_IMODE(os.stat(written).st_mode) == 0o600
    assert (os.stat(written).st_uid, os.stat(written).st_gid) == (10001, 10001)
    assert run.job_exit_code == 0, run.job_log

    # The run exists, and what the job created is managed by team-fraud: it was the caller.
    seen = accounts.admin.ok("GET", "/api/2.0/mlflow/runs/get", params={"run_id": run.result["run_id"]})["run"]
    assert seen["data"]["params"] == [{"key": "source", "value": "team-job"}]
    grants = accounts.grants("fraud")
    assert grants[("experiment", run.result["experiment_id"])] == "MANAGE"
    assert grants[("registered_model", "fraud-team-job-model")] == "MANAGE"
