"""The MLflow image's entrypoint, run with the args and environment of the synthesized migration
Job and server Deployment, against PostgreSQL set up like RDS and S3/Secrets Manager on loopback.
"""

from __future__ import annotations

import time

import requests

from support.mlflow_server import MigrationRun, migration_container, run_client, server_container

APP_USER = "mlflow_app"


def _previous_schema_revision() -> str:
    """The tracking schema's revision just before the installed MLflow's head."""
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config

    scripts = ScriptDirectory.from_config(_get_alembic_config("postgresql://"))
    return scripts.get_revision(scripts.get_current_head()).down_revision


def _databases(container) -> tuple[str, str]:
    """The tracking and the basic-auth database a synthesized MLflow container names."""
    env = container.manifest_env()
    return env["MLFLOW_BACKEND_DB"], env["MLFLOW_AUTH_DB"]


def _tracking_database(platform) -> str:
    return _databases(migration_container(platform))[0]


def _schema_head(platform) -> str:
    (row,) = platform.postgres.query("SELECT version_num FROM alembic_version", dbname=_tracking_database(platform))
    return row[0]


def test_the_manifests_name_the_tracking_database_the_template_creates(platform):
    ((_, instance),) = platform.assembly.stack("Data").resources("AWS::RDS::DBInstance")
    assert _tracking_database(platform) == instance["DBName"]
    assert _databases(server_container(platform)) == _databases(migration_container(platform))


def test_migration_creates_the_app_role_and_both_databases_owned_by_it(platform, first_migrations):
    assert [run.exit_code for run in first_migrations] == [0, 0], "\n".join(run.log for run in first_migrations)
    tracking, auth = _databases(migration_container(platform))
    owners = dict(
        platform.postgres.query(
            "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname IN (%s, %s)", (tracking, auth)
        )
    )
    assert owners == {tracking: APP_USER, auth: APP_USER}
    (role,) = platform.postgres.query("SELECT rolcanlogin, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s", (APP_USER,))
    assert role == (True, False, False)
    assert platform.postgres.query("SELECT count(*) FROM alembic_version_auth", dbname=auth) == [(1,)]
    assert _schema_head(platform)


def test_two_migrations_started_at_once_take_turns_on_the_lock(first_migrations):
    waited = [run for run in first_migrations if "another migration holds the lock; waiting" in run.log]
    assert len(waited) == 1, "\n".join(run.log for run in first_migrations)


def test_the_migration_never_prints_a_password(platform, first_migrations):
    for run in first_migrations:
        for name, value in platform.secret_values.items():
            document = value if not value.startswith("{") else platform.secret(name).get("password", "")
            assert document not in run.log


def test_a_second_migration_changes_nothing(platform, first_migrations):
    head = _schema_head(platform)
    tracking = _tracking_database(platform)
    tables = platform.postgres.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", dbname=tracking)
    again = MigrationRun.run(platform, "migrate-again")
    assert again.exit_code == 0, again.log
    assert "created" not in again.log
    assert _schema_head(platform) == head
    assert platform.postgres.query("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", dbname=tracking) == tables


def test_pods_get_their_aws_credentials_from_the_pod_identity_agent(platform, mlflow):
    assert platform.agent.requests > 0


def test_health_answers_without_login_whatever_the_host_header(mlflow):
    port = mlflow.port("server-1")
    # The kubelet probes the pod IP; the load balancer's health check sends its own Host.
    assert requests.get(f"http://127.0.0.1:{port}/health", headers={"Host": "10.40.12.34:5000"}, timeout=10).status_code == 200
    assert requests.get(f"{mlflow.url}/health", timeout=10).status_code == 200


def test_the_api_refuses_a_caller_without_a_login(mlflow):
    response = requests.get(f"{mlflow.url}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, timeout=10)
    assert response.status_code == 401


def test_the_api_refuses_a_wrong_password(mlflow):
    response = requests.get(
        f"{mlflow.url}/api/2.0/mlflow/experiments/search",
        params={"max_results": 1},
        auth=(mlflow.admin[0], "not-the-password"),
        timeout=10,
    )
    assert response.status_code == 401


def test_the_admin_from_its_secret_can_log_in(mlflow):
    response = requests.get(
        f"{mlflow.url}/api/2.0/mlflow/experiments/search", params={"max_results": 1}, auth=mlflow.admin, timeout=10
    )
    assert response.status_code == 200


def test_a_host_header_outside_the_allowed_hosts_is_refused(mlflow):
    response = requests.get(
        f"http://127.0.0.1:{mlflow.port('server-1')}/api/2.0/mlflow/experiments/search",
        params={"max_results": 1},
        headers={"Host": "attacker.example.com"},
        auth=mlflow.admin,
        timeout=10,
    )
    assert response.status_code in (400, 403)


def test_a_data_scientist_logs_registers_and_loads_a_model_by_alias(registered_model):
    assert registered_model["alias_predictions_match"]
    assert registered_model["artifact_uri"].startswith("mlflow-artifacts:/")


def test_artifacts_land_in_the_artifact_bucket_under_the_mlflow_prefix(platform, mlflow, registered_model):
    env = mlflow.container.manifest_env()
    bucket, _, prefix = env["MLFLOW_ARTIFACTS_DESTINATION"].removeprefix("s3://").partition("/")
    s3 = platform.aws.client("s3", platform.assembly.region)
    # Batch jobs of the same session write under predictions/, the bucket's other prefix.
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []) if not item["Key"].startswith("predictions/")]
    assert keys, "nothing was written to the artifact bucket"
    assert all(key.startswith(f"{prefix}/") for key in keys), keys
    assert any(key.endswith("/MLmodel") for key in keys), keys


def _read_back(mlflow, registered_model: dict, home) -> dict:
    """The scientist's run and alias as their own login sees them through the load balancer now."""
    return run_client(
        "read_run.py",
        home,
        mlflow.url,
        (registered_model["user"], registered_model["password"]),
        {key: registered_model[key] for key in ("run_id", "registered_model", "alias")},
    )


def test_two_server_pods_on_one_database_both_serve_the_same_data(mlflow, registered_model, runtime_root):
    mlflow.start_pod("server-2")
    try:
        mlflow.route_to("server-2")
        seen = _read_back(mlflow, registered_model, runtime_root / "reader-2")
        assert seen["run_id"] == registered_model["run_id"]
        assert seen["alias_version"] == registered_model["model_version"]
    finally:
        mlflow.route_to("server-1")
        mlflow.stop_pod("server-2")


def test_a_restarted_server_has_lost_nothing(mlflow, registered_model, runtime_root):
    mlflow.stop_pod("server-1")
    mlflow.start_pod("server-1")
    mlflow.route_to("server-1")
    seen = _read_back(mlflow, registered_model, runtime_root / "reader-restart")
    assert seen["params"]["max_iter"] == "500"
    assert seen["alias_version"] == registered_model["model_version"]


def _database_at_revision(platform, name: str, revision: str) -> None:
    """A tracking database the migration Job made, then set to another schema revision."""
    made = MigrationRun.run(platform, f"migrate-{name}", {"MLFLOW_BACKEND_DB": name})
    assert made.exit_code == 0, made.log
    platform.postgres.query("UPDATE alembic_version SET version_num = %s", (revision,), dbname=name)


def _serve_until_it_exits(platform, mlflow, name: str, overrides: dict, timeout: float):
    process = platform.run_mlflow(mlflow.container, name, overrides)
    try:
        exit_code = process.wait(timeout)
    finally:
        process.stop()
    scratch = process.log_path.parent
    left = sorted(str(path.relative_to(scratch)) for path in scratch.rglob("basic_auth.ini"))
    return exit_code, process.log(), left


def test_a_server_facing_a_schema_behind_its_image_waits_then_names_the_migration_job(platform, mlflow):
    _database_at_revision(platform, "mlflow_behind", _previous_schema_revision())
    exit_code, log, left = _serve_until_it_exits(
        platform, mlflow, "server-behind", {"MLFLOW_BACKEND_DB": "mlflow_behind", "MLFLOW_SCHEMA_WAIT_SECONDS": "5"}, 120
    )
    assert exit_code == 1, log
    assert "did not reach" in log and "has the migration Job for this image run?" in log, log
    # The admin password it wrote for the server it never started is gone with it.
    assert left == []


def test_a_server_facing_a_schema_from_a_newer_mlflow_fails_at_once_and_says_so(platform, mlflow):
    _database_at_revision(platform, "mlflow_ahead", "f00dfeedbeef")
    started = time.monotonic()
    exit_code, log, left = _serve_until_it_exits(platform, mlflow, "server-ahead", {"MLFLOW_BACKEND_DB": "mlflow_ahead"}, 120)
    assert exit_code == 1, log
    assert "newer MLflow image has migrated the database" in log, log
    # Far inside the schema wait the manifest sets: no pod waits for what cannot happen.
    assert time.monotonic() - started < int(mlflow.container.manifest_env()["MLFLOW_SCHEMA_WAIT_SECONDS"]) / 4
    assert left == []
