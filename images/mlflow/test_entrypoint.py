"""Tests of entrypoint.py with stand-ins for boto3, psycopg2 and MLflow, none of which they need.

Run from the repository root: python3 -m unittest discover -s images/mlflow
"""

from __future__ import annotations

import configparser
import contextlib
import io
import json
import os
import stat
import sys
import tempfile
import types
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import entrypoint  # noqa: E402

MASTER_PASSWORD = "master-Pa55word-value"
APP_PASSWORD = "app-Pa55word-value"
ADMIN_PASSWORD = "admin-Pa55%word-value"
FLASK_KEY = "flask-secret-key-value"
FRAUD_PASSWORD = "fraud-Pa55%word-value"
RISK_PASSWORD = "risk-Pa55word-value"
HEAD = "abc123head"

SECRETS = {
    "master-id": '{"username": "mlflow", "password": "%s", "host": "ignored", "port": 5432, "dbname": "mlflow"}'
    % MASTER_PASSWORD,
    "app-id": '{"username": "mlflow_app", "password": "%s"}' % APP_PASSWORD,
    "flask-id": FLASK_KEY,
    "admin-id": '{"username": "admin", "password": "%s"}' % ADMIN_PASSWORD,
    "fraud-id": '{"username": "team-fraud", "password": "%s"}' % FRAUD_PASSWORD,
    "risk-id": '{"username": "team-risk", "password": "%s"}' % RISK_PASSWORD,
    "misnamed-id": '{"username": "team-other", "password": "%s"}' % RISK_PASSWORD,
    "short-id": '{"username": "team-fraud", "password": "short"}',
}

COMMON_ENV = {
    "AWS_REGION": "eu-west-1",
    "MLFLOW_DB_HOST": "db.example.internal",
    "MLFLOW_DB_PORT": "5432",
    "MLFLOW_BACKEND_DB": "mlflow",
    "MLFLOW_AUTH_DB": "mlflow_auth",
    "MLFLOW_DB_APP_SECRET_ID": "app-id",
}
MIGRATE_ENV = {**COMMON_ENV, "MLFLOW_DB_MASTER_SECRET_ID": "master-id"}
SERVE_ENV = {
    **COMMON_ENV,
    "MLFLOW_FLASK_SECRET_ID": "flask-id",
    "MLFLOW_ADMIN_SECRET_ID": "admin-id",
    "MLFLOW_ARTIFACTS_DESTINATION": "s3://bucket/mlflow",
    "MLFLOW_ALLOWED_HOSTS": " mlflow.example.internal, mlflow.mlflow.svc.cluster.local ,",
    "MLFLOW_WORKERS": "3",
    "MLFLOW_PORT": "5000",
}
SYNC_ENV = {
    "AWS_REGION": "eu-west-1",
    "MLFLOW_TRACKING_URI": "http://mlflow.mlflow.svc.cluster.local",
    "MLFLOW_ADMIN_SECRET_ID": "admin-id",
    "MLFLOW_TEAMS": '[{"team": "fraud", "secretId": "fraud-id", "registeredModels": ["fraud-scorer"]},'
    ' {"team": "risk", "secretId": "risk-id", "registeredModels": []}]',
    "MLFLOW_SERVER_WAIT_SECONDS": "60",
}
CREDENTIALS_ENV = {"AWS_REGION": "eu-west-1", "MLFLOW_CREDENTIALS_SECRET_ARN": "fraud-id", "HOME": "/home/mlflow"}
ALL_PASSWORDS = (MASTER_PASSWORD, APP_PASSWORD, ADMIN_PASSWORD, FLASK_KEY, FRAUD_PASSWORD, RISK_PASSWORD)


# --- stand-ins -------------------------------------------------------------------------------


class FakeSecretsClient:
    def get_secret_value(self, SecretId):
        return {"SecretString": SECRETS[SecretId]}


class Composed:
    def __init__(self, text):
        self.text = text


class FakeSql(types.ModuleType):
    """Renders psycopg2.sql compositions to text, quoting identifiers as PostgreSQL does."""

    def __init__(self):
        super().__init__("psycopg2.sql")
        module = self

        class SQL:
            def __init__(self, text):
                self.text = text

            def format(self, *parts):
                return Composed(self.text.format(*(module.render(part) for part in parts)))

        class Identifier:
            def __init__(self, name):
                self.text = '"' + name.replace('"', '""') + '"'

        self.SQL = SQL
        self.Identifier = Identifier

    @staticmethod
    def render(part):
        return part.text


class UndefinedTable(Exception):
    pass


class FakeDatabase:
    """Records statements; answers the few queries the entrypoint makes."""

    def __init__(self, role_exists=False, databases=(), revisions_sequence=()):
        self.role_exists = role_exists
        self.databases = set(databases)
        self.revisions_sequence = list(revisions_sequence)
        self.statements: list[tuple[str, str, object]] = []
        self.connections: list[dict] = []

    def connect(self, **kwargs):
        self.connections.append(kwargs)
        return FakeConnection(self, kwargs["dbname"])


class FakeConnection:
    def __init__(self, database, dbname):
        self.database = database
        self.dbname = dbname
        self.autocommit = False
        self.closed = False

    def cursor(self):
        return FakeCursor(self)

    def close(self):
        self.closed = True


class FakeCursor:
    def __init__(self, connection):
        self.connection = connection
        self.result = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, statement, parameters=None):
        text = statement.text if isinstance(statement, Composed) else statement
        database = self.connection.database
        database.statements.append((self.connection.dbname, " ".join(text.split()), parameters))
        if "pg_try_advisory_lock" in text:
            self.result = [(True,)]
        elif "FROM pg_class" in text:
            self.result = [("experiments", "r"), ("standalone_seq", "S")] if self.connection.dbname == "mlflow" else []
        elif "FROM pg_type" in text:
            self.result = []
        elif "FROM pg_roles WHERE rolname" in text:
            self.result = [(1,)] if database.role_exists else []
        elif "FROM pg_database WHERE datname" in text:
            self.result = [(1,)] if parameters[0] in database.databases else []
        elif "alembic_version" in text:
            revisions = database.revisions_sequence.pop(0)
            if revisions is None:
                raise UndefinedTable("relation alembic_version does not exist")
            self.result = [(revision,) for revision in revisions]
        else:
            self.result = []

    def fetchone(self):
        return self.result[0] if self.result else None

    def fetchall(self):
        return list(self.result)


def fake_modules(database):
    psycopg2 = types.ModuleType("psycopg2")

    class Error(Exception):
        pass

    psycopg2.Error = Error
    psycopg2.connect = database.connect
    extensions = types.ModuleType("psycopg2.extensions")
    extensions.encrypt_password = lambda password, user, scope, algorithm: "SCRAM-SHA-256$4096:c2FsdA==$x:y"
    errors = types.ModuleType("psycopg2.errors")
    errors.UndefinedTable = UndefinedTable
    sql = FakeSql()
    psycopg2.sql, psycopg2.extensions, psycopg2.errors = sql, extensions, errors

    botocore = types.ModuleType("botocore")
    botocore_exceptions = types.ModuleType("botocore.exceptions")
    botocore_exceptions.ClientError = type("ClientError", (Exception,), {})
    botocore_exceptions.BotoCoreError = type("BotoCoreError", (Exception,), {})
    botocore.exceptions = botocore_exceptions

    mlflow_utils = types.ModuleType("mlflow.store.db.utils")
    mlflow_utils._get_latest_schema_revision = lambda: HEAD
    return {
        "psycopg2": psycopg2,
        "psycopg2.sql": sql,
        "psycopg2.extensions": extensions,
        "psycopg2.errors": errors,
        "botocore": botocore,
        "botocore.exceptions": botocore_exceptions,
        "mlflow": types.ModuleType("mlflow"),
        "mlflow.store": types.ModuleType("mlflow.store"),
        "mlflow.store.db": types.ModuleType("mlflow.store.db"),
        "mlflow.store.db.utils": mlflow_utils,
    }


@contextlib.contextmanager
def stand_ins(database):
    stderr = io.StringIO()
    with mock.patch.dict(sys.modules, fake_modules(database)), mock.patch.object(
        entrypoint, "secrets_client", lambda region: FakeSecretsClient()
    ), mock.patch.object(entrypoint.shutil, "which", lambda name: f"/usr/local/bin/{name}"), mock.patch.object(
        entrypoint.time, "sleep", lambda seconds: None
    ), mock.patch.object(
        entrypoint, "known_schema_revisions", lambda: {"older", HEAD}
    ), contextlib.redirect_stderr(stderr):
        yield stderr


# --- tests -----------------------------------------------------------------------------------


class ConfigurationTest(unittest.TestCase):
    def test_missing_variable_is_named_in_one_line(self):
        for command, environment in (("migrate", MIGRATE_ENV), ("serve", SERVE_ENV)):
            for name in [n for n in environment if n not in ("MLFLOW_DB_PORT", "MLFLOW_BACKEND_DB", "MLFLOW_AUTH_DB", "MLFLOW_WORKERS", "MLFLOW_PORT")]:
                reduced = {k: v for k, v in environment.items() if k != name}
                stderr = io.StringIO()
                with contextlib.redirect_stderr(stderr):
                    code = entrypoint.main(["entrypoint.py", command], reduced)
                self.assertNotEqual(code, 0)
                output = stderr.getvalue()
                self.assertEqual(output.count("\n"), 1, output)
                self.assertIn(f"missing required environment variable {name}", output)

    def test_unknown_command(self):
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(entrypoint.main(["entrypoint.py"], {}), 2)
            self.assertEqual(entrypoint.main(["entrypoint.py", "other"], {}), 2)

    def test_defaults_and_bad_numbers(self):
        settings = entrypoint.DatabaseSettings({"MLFLOW_DB_HOST": "h"})
        self.assertEqual((settings.port, settings.backend_db, settings.auth_db), (5432, "mlflow", "mlflow_auth"))
        with self.assertRaisesRegex(entrypoint.ConfigError, "MLFLOW_DB_PORT"):
            entrypoint.DatabaseSettings({"MLFLOW_DB_HOST": "h", "MLFLOW_DB_PORT": "x"})
        with self.assertRaisesRegex(entrypoint.ConfigError, "MLFLOW_AUTH_DB"):
            entrypoint.DatabaseSettings({"MLFLOW_DB_HOST": "h", "MLFLOW_AUTH_DB": "Bad-Name"})
        with self.assertRaises(entrypoint.ConfigError):
            entrypoint.DatabaseSettings({"MLFLOW_DB_HOST": "h", "MLFLOW_AUTH_DB": "mlflow"})

    def test_allowed_hosts_are_normalised(self):
        self.assertEqual(entrypoint.parse_allowed_hosts(" a.example , b:5000,,*.c "), "a.example,b:5000,*.c")
        with self.assertRaises(entrypoint.ConfigError):
            entrypoint.parse_allowed_hosts(" , ")
        with self.assertRaises(entrypoint.ConfigError):
            entrypoint.parse_allowed_hosts("a b")

    def test_database_uri_names_the_driver_and_holds_no_password(self):
        self.assertEqual(
            entrypoint.database_uri("mlflow_app", "db.example.internal", 5432, "mlflow"),
            "postgresql+psycopg2://mlflow_app@db.example.internal:5432/mlflow",
        )

    def test_secret_errors_do_not_echo_values(self):
        with self.assertRaises(entrypoint.ConfigError) as caught:
            entrypoint.parse_json_secret('{"username": "u", "pass": "s3cr3t"}', "secret x", ("username", "password"))
        self.assertNotIn("s3cr3t", str(caught.exception))
        with self.assertRaises(entrypoint.ConfigError) as caught:
            entrypoint.parse_json_secret("s3cr3t", "secret x", ("username",))
        self.assertNotIn("s3cr3t", str(caught.exception))


class AuthConfigTest(unittest.TestCase):
    def test_round_trips_through_configparser(self):
        text = entrypoint.render_auth_config("postgresql+psycopg2://u@h:5432/mlflow_auth", "admin", "p%ss:w=rd#1")
        parser = configparser.ConfigParser()
        parser.read_string(text)
        section = parser["mlflow"]
        self.assertEqual(section["admin_password"], "p%ss:w=rd#1")
        self.assertEqual(section["default_permission"], "READ")
        self.assertEqual(section["database_uri"], "postgresql+psycopg2://u@h:5432/mlflow_auth")
        self.assertEqual(section["authorization_function"], "mlflow.server.auth:authenticate_request_basic_auth")

    def test_rejects_values_configparser_would_alter(self):
        for value in ("a\nb", " lead", "trail "):
            with self.assertRaises(entrypoint.ConfigError):
                entrypoint.render_auth_config("uri", "admin", value)

    def test_private_file(self):
        with tempfile.TemporaryDirectory() as directory:
            path = entrypoint.write_private_file(directory, "f.ini", "x")
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)


class WaitTest(unittest.TestCase):
    def test_backoff_is_bounded(self):
        delays = entrypoint.backoff_delays()
        self.assertEqual([next(delays) for _ in range(7)], [2, 4, 8, 16, 30, 30, 30])

    def test_times_out_with_what_it_found(self):
        database = FakeDatabase(revisions_sequence=[["older"]] * 50)
        settings = entrypoint.DatabaseSettings(SERVE_ENV)
        with stand_ins(database):
            with self.assertRaisesRegex(entrypoint.StepFailed, "found older"):
                entrypoint.wait_for_schema(settings, "mlflow_app", wait_seconds=0)


    def test_a_schema_this_image_does_not_know_fails_at_once(self):
        database = FakeDatabase(revisions_sequence=[["from-a-newer-mlflow"]] * 50)
        settings = entrypoint.DatabaseSettings(SERVE_ENV)
        with stand_ins(database):
            with self.assertRaisesRegex(entrypoint.StepFailed, "newer MLflow image has migrated the database"):
                entrypoint.wait_for_schema(settings, "mlflow_app", wait_seconds=600)
        self.assertEqual(len(database.connections), 1)


class DatabaseErrorTest(unittest.TestCase):
    def test_keeps_detail_and_hint_and_drops_the_statement(self):
        diag = types.SimpleNamespace(
            message_primary="permission denied to create database",
            message_detail="Only roles with the CREATEDB attribute\n may create databases.",
            message_hint="Grant CREATEDB to the master user.",
        )
        error = Exception("permission denied to create database\nSTATEMENT: CREATE DATABASE secret")
        error.diag = diag
        self.assertEqual(
            entrypoint.database_error_summary(error),
            "permission denied to create database DETAIL: Only roles with the CREATEDB attribute may create databases. "
            "HINT: Grant CREATEDB to the master user.",
        )


class MigrateTest(unittest.TestCase):
    def run_migrate(self, database):
        calls = []

        def fake_run(command, env, check):
            calls.append((command, env))
            return types.SimpleNamespace(returncode=0)

        with stand_ins(database) as stderr, mock.patch.object(entrypoint.subprocess, "run", fake_run):
            code = entrypoint.main(["entrypoint.py", "migrate"], MIGRATE_ENV)
        return code, calls, stderr.getvalue()

    def test_fresh_database(self):
        database = FakeDatabase(databases={"postgres", "mlflow"})
        code, calls, output = self.run_migrate(database)
        self.assertEqual(code, 0, output)
        statements = [(db, text) for db, text, _ in database.statements]
        texts = [text for _, text in statements]

        self.assertTrue(texts[0].startswith("SELECT pg_try_advisory_lock"))
        self.assertIn('CREATE ROLE "mlflow_app" WITH LOGIN PASSWORD %s', texts)
        self.assertIn('GRANT "mlflow_app" TO CURRENT_USER', texts)
        self.assertIn('CREATE DATABASE "mlflow_auth" OWNER "mlflow_app"', texts)
        self.assertNotIn('CREATE DATABASE "mlflow" OWNER "mlflow_app"', texts)
        self.assertIn(("postgres", 'ALTER DATABASE "mlflow" OWNER TO "mlflow_app"'), statements)
        self.assertIn(("postgres", 'ALTER DATABASE "mlflow_auth" OWNER TO "mlflow_app"'), statements)
        self.assertIn(("mlflow", 'ALTER SCHEMA public OWNER TO "mlflow_app"'), statements)
        self.assertIn(("mlflow_auth", 'ALTER SCHEMA public OWNER TO "mlflow_app"'), statements)
        self.assertIn(("mlflow", 'ALTER TABLE public."experiments" OWNER TO "mlflow_app"'), statements)
        self.assertIn(("mlflow", 'ALTER SEQUENCE public."standalone_seq" OWNER TO "mlflow_app"'), statements)
        self.assertFalse(any("REASSIGN OWNED" in text for text in texts))

        # The role gets a verifier, never the cleartext.
        role_parameters = [p for _, text, p in database.statements if "ROLE" in text and "PASSWORD" in text]
        self.assertEqual(role_parameters, [("SCRAM-SHA-256$4096:c2FsdA==$x:y",)])

        # The master connects with its password; nothing else does.
        self.assertTrue(all(c["password"] == MASTER_PASSWORD and c["user"] == "mlflow" for c in database.connections))
        self.assertTrue(all(c["host"] == "db.example.internal" for c in database.connections))

        # Auth schema first, then tracking; the app password only in the environment.
        self.assertEqual(
            [command[:6] for command, _ in calls],
            [
                [sys.executable, "-m", "mlflow.server.auth", "db", "upgrade", "--url"],
                ["/usr/local/bin/mlflow", "db", "upgrade", "postgresql+psycopg2://mlflow_app@db.example.internal:5432/mlflow"],
            ],
        )
        self.assertEqual(calls[0][0][6], "postgresql+psycopg2://mlflow_app@db.example.internal:5432/mlflow_auth")
        for command, env in calls:
            self.assertEqual(env["PGPASSWORD"], APP_PASSWORD)
            self.assertFalse(any(password in " ".join(command) for password in ALL_PASSWORDS))
        self.assertFalse(any(password in output for password in ALL_PASSWORDS), output)

    def test_rerun_resets_the_password(self):
        database = FakeDatabase(role_exists=True, databases={"postgres", "mlflow", "mlflow_auth"})
        code, _, output = self.run_migrate(database)
        self.assertEqual(code, 0, output)
        texts = [text for _, text, _ in database.statements]
        self.assertIn('ALTER ROLE "mlflow_app" WITH LOGIN PASSWORD %s', texts)
        self.assertFalse(any(text.startswith("CREATE") for text in texts))

    def test_failed_migration_is_reported(self):
        database = FakeDatabase(databases={"postgres", "mlflow"})

        def failing_run(command, env, check):
            return types.SimpleNamespace(returncode=3)

        with stand_ins(database) as stderr, mock.patch.object(entrypoint.subprocess, "run", failing_run):
            code = entrypoint.main(["entrypoint.py", "migrate"], MIGRATE_ENV)
        self.assertEqual(code, 1)
        self.assertIn("failed with exit code 3", stderr.getvalue())


class ServeTest(unittest.TestCase):
    def test_waits_for_the_schema_then_execs_the_server(self):
        database = FakeDatabase(revisions_sequence=[None, ["older"], [HEAD]])
        executed = []
        with tempfile.TemporaryDirectory() as scratch, mock.patch.dict(os.environ, {"TMPDIR": scratch}), mock.patch.object(
            entrypoint.tempfile, "tempdir", None
        ), stand_ins(database) as stderr, mock.patch.object(
            entrypoint.os, "execv", lambda path, argv: executed.append((path, argv))
        ):
            code = entrypoint.main(["entrypoint.py", "serve"], SERVE_ENV)
            output = stderr.getvalue()
            self.assertEqual(code, 0, output)
            self.assertEqual(os.environ["PGPASSWORD"], APP_PASSWORD)
            self.assertEqual(os.environ["MLFLOW_FLASK_SERVER_SECRET_KEY"], FLASK_KEY)
            config_path = os.environ["MLFLOW_AUTH_CONFIG_PATH"]
            self.assertTrue(config_path.startswith(scratch))
            self.assertEqual(stat.S_IMODE(os.stat(config_path).st_mode), 0o600)
            parser = configparser.ConfigParser()
            parser.read(config_path)
            self.assertEqual(parser["mlflow"]["admin_password"], ADMIN_PASSWORD)
            self.assertEqual(parser["mlflow"]["admin_username"], "admin")
            self.assertEqual(
                parser["mlflow"]["database_uri"], "postgresql+psycopg2://mlflow_app@db.example.internal:5432/mlflow_auth"
            )

        self.assertEqual(len(database.connections), 3)
        self.assertTrue(all("password" not in c and c["user"] == "mlflow_app" for c in database.connections))
        (path, argv), = executed
        self.assertEqual(path, "/usr/local/bin/mlflow")
        self.assertEqual(
            argv,
            [
                "/usr/local/bin/mlflow", "server",
                "--host", "0.0.0.0",
                "--port", "5000",
                "--workers", "3",
                "--backend-store-uri", "postgresql+psycopg2://mlflow_app@db.example.internal:5432/mlflow",
                "--serve-artifacts",
                "--default-artifact-root", "mlflow-artifacts:/",
                "--artifacts-destination", "s3://bucket/mlflow",
                "--app-name", "basic-auth",
                "--allowed-hosts", "mlflow.example.internal,mlflow.mlflow.svc.cluster.local",
            ],
        )
        self.assertFalse(any(password in output for password in ALL_PASSWORDS), output)
        self.assertIn("waiting for the migration Job", output)


class ServeFailureTest(unittest.TestCase):
    def test_a_server_that_gives_up_leaves_no_admin_password_behind(self):
        database = FakeDatabase(revisions_sequence=[["older"]] * 50)
        environment = {**SERVE_ENV, "MLFLOW_SCHEMA_WAIT_SECONDS": "0"}
        with tempfile.TemporaryDirectory() as scratch, mock.patch.dict(os.environ, {"TMPDIR": scratch}), mock.patch.object(
            entrypoint.tempfile, "tempdir", None
        ), stand_ins(database) as stderr:
            for _ in range(2):
                self.assertEqual(entrypoint.main(["entrypoint.py", "serve"], environment), 1, stderr.getvalue())
            left = [os.path.join(folder, name) for folder, _, names in os.walk(scratch) for name in names]
        self.assertEqual(left, [])


class FakeRequestException(Exception):
    pass


class FakeResponse:
    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self._body = body
        self.content = b"" if body is None else json.dumps(body).encode()

    def json(self):
        if self._body is None:
            raise ValueError("no body")
        return self._body


class FakeMlflow:
    """The basic-auth app's REST API as far as sync-users uses it, kept in memory.

    Admin calls must carry the admin's login; ``calls`` records (method, path, user) of each.
    """

    ADMIN = ("admin", ADMIN_PASSWORD)

    def __init__(self, users=None, experiments=(), health=(200,)):
        self.users = {"admin": {"password": ADMIN_PASSWORD, "is_admin": True}, **(users or {})}
        self.grants: dict[str, dict[tuple[str, str], str]] = {name: {} for name in self.users}
        self.experiments = list(experiments)
        self.health = list(health)
        self.calls: list[tuple[str, str, str | None]] = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def logs_in(self, username, password):
        return username in self.users and self.users[username]["password"] == password

    def request(self, method, url, auth=None, timeout=None, json=None, params=None):
        assert url.startswith("http://mlflow.mlflow.svc.cluster.local/"), url
        assert timeout, "every call has a timeout"
        path = url.removeprefix("http://mlflow.mlflow.svc.cluster.local")
        self.calls.append((method, path, auth[0] if auth else None))
        if path == "/health":
            status = self.health.pop(0) if len(self.health) > 1 else self.health[0]
            if status is None:
                raise FakeRequestException("connection refused")
            return FakeResponse(status)
        if auth is None or not self.logs_in(*auth):
            return FakeResponse(401)
        if path == "/api/2.0/mlflow/users/current":
            return FakeResponse(200, {"user": {"username": auth[0]}})
        assert tuple(auth) == self.ADMIN, f"{method} {path} must be made as the admin"
        if path == "/api/2.0/mlflow/users/list":
            return FakeResponse(200, {"users": [{"username": n, "is_admin": u["is_admin"]} for n, u in self.users.items()]})
        if path == "/api/2.0/mlflow/users/create":
            if json["username"] in self.users:
                return FakeResponse(400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "exists"})
            self.users[json["username"]] = {"password": json["password"], "is_admin": False}
            self.grants[json["username"]] = {}
            return FakeResponse(200, {"user": {"username": json["username"]}})
        if path == "/api/2.0/mlflow/users/update-password":
            if len(json["password"]) < 12:
                # MLflow's message; a careless server could echo the value, which must not reach the log.
                return FakeResponse(400, {"error_code": "INVALID_PARAMETER_VALUE", "message": f"bad {json['password']}"})
            self.users[json["username"]]["password"] = json["password"]
            return FakeResponse(200, {})
        if path == "/api/2.0/mlflow/users/update-admin":
            self.users[json["username"]]["is_admin"] = json["is_admin"]
            return FakeResponse(200, {})
        if path == "/api/3.0/mlflow/users/permissions/list":
            rows = [
                {"resource_type": t, "resource_pattern": i, "permission": p, "workspace": "default"}
                for (t, i), p in self.grants[params["username"]].items()
            ]
            return FakeResponse(200, {"is_admin": False, "permissions": rows})
        if path == "/api/3.0/mlflow/users/permissions/grant":
            key = (json["resource_type"], json["resource_id"])
            if key in self.grants[json["username"]]:
                return FakeResponse(400, {"error_code": "RESOURCE_ALREADY_EXISTS", "message": "exists"})
            self.grants[json["username"]][key] = json["permission"]
            return FakeResponse(200, {})
        if path == "/api/3.0/mlflow/users/permissions/revoke":
            del self.grants[json["username"]][(json["resource_type"], json["resource_id"])]
            return FakeResponse(200, {})
        if path == "/api/2.0/mlflow/experiments/search":
            assert json["filter"].startswith("name LIKE '") and json["filter"].endswith("%'")
            prefix = json["filter"][len("name LIKE '") : -2]
            matches = [{"experiment_id": i, "name": n} for i, n in self.experiments if n.startswith(prefix)]
            # One result per page, so that paging is exercised.
            start = int(json.get("page_token", "0"))
            page = {"experiments": matches[start : start + 1]}
            if start + 1 < len(matches):
                page["next_page_token"] = str(start + 1)
            return FakeResponse(200, page)
        raise AssertionError(f"unexpected call {method} {path}")

    def changes(self):
        return [(method, path) for method, path, _ in self.calls if method != "GET" and not path.endswith("/search")]


@contextlib.contextmanager
def mlflow_stand_in(server):
    requests_module = types.ModuleType("requests")
    requests_module.RequestException = FakeRequestException
    requests_module.Session = lambda: server
    with stand_ins(FakeDatabase()) as stderr, mock.patch.dict(sys.modules, {"requests": requests_module}):
        yield stderr


def sync(server, environment=SYNC_ENV):
    with mlflow_stand_in(server) as stderr:
        code = entrypoint.main(["entrypoint.py", "sync-users"], environment)
    return code, stderr.getvalue()


EXPERIMENTS = [("1", "fraud/churn"), ("2", "fraud/scoring"), ("3", "fraudster/x"), ("4", "risk-fraud/y"), ("5", "risk/limits")]


class TeamListTest(unittest.TestCase):
    def test_parses_and_sorts_the_teams(self):
        accounts = entrypoint.parse_team_accounts(SYNC_ENV["MLFLOW_TEAMS"])
        self.assertEqual([(a.team, a.username, a.secret_id, a.registered_models) for a in accounts], [
            ("fraud", "team-fraud", "fraud-id", ["fraud-scorer"]),
            ("risk", "team-risk", "risk-id", []),
        ])
        self.assertEqual(entrypoint.parse_team_accounts("[]"), [])

    def test_bad_lists_are_named_in_one_line(self):
        for text, expected in (
            ("{", "MLFLOW_TEAMS is not JSON"),
            ('{"team": "a"}', "must be a JSON list"),
            ('[{"team": "a", "secretId": "x"}]', "MLFLOW_TEAMS[0] must be an object with exactly"),
            ('[{"team": "Fraud", "secretId": "x", "registeredModels": []}]', "MLFLOW_TEAMS[0].team must be a DNS label"),
            ('[{"team": "a", "secretId": " ", "registeredModels": []}]', "secretId must name"),
            ('[{"team": "a", "secretId": "x", "registeredModels": [""]}]', "registeredModels must be a list"),
            ('[{"team": "a", "secretId": "x", "registeredModels": []}, {"team": "a", "secretId": "y", "registeredModels": []}]',
             "MLFLOW_TEAMS[1].team 'a' is listed twice"),
        ):
            with self.subTest(text=text):
                stderr = io.StringIO()
                with contextlib.redirect_stderr(stderr):
                    code = entrypoint.main(["entrypoint.py", "sync-users"], {**SYNC_ENV, "MLFLOW_TEAMS": text})
                self.assertEqual(code, 2)
                self.assertEqual(stderr.getvalue().count("\n"), 1, stderr.getvalue())
                self.assertIn(expected, stderr.getvalue())

    def test_missing_variable_is_named_in_one_line(self):
        for command, environment in (("sync-users", SYNC_ENV), ("write-credentials", CREDENTIALS_ENV)):
            for name in [n for n in environment if n != "MLFLOW_SERVER_WAIT_SECONDS"]:
                stderr = io.StringIO()
                with contextlib.redirect_stderr(stderr):
                    code = entrypoint.main(["entrypoint.py", command], {k: v for k, v in environment.items() if k != name})
                self.assertEqual(code, 2)
                self.assertEqual(stderr.getvalue().count("\n"), 1, stderr.getvalue())
                self.assertIn(f"missing required environment variable {name}", stderr.getvalue())


class SyncUsersTest(unittest.TestCase):
    def test_creates_each_team_user_with_manage_on_its_experiments_and_models_only(self):
        server = FakeMlflow(experiments=EXPERIMENTS)
        code, output = sync(server)
        self.assertEqual(code, 0, output)
        self.assertTrue(server.logs_in("team-fraud", FRAUD_PASSWORD))
        self.assertTrue(server.logs_in("team-risk", RISK_PASSWORD))
        self.assertFalse(server.users["team-fraud"]["is_admin"])
        self.assertEqual(server.grants["team-fraud"], {
            ("experiment", "1"): "MANAGE",
            ("experiment", "2"): "MANAGE",
            ("registered_model", "fraud-scorer"): "MANAGE",
        })
        self.assertEqual(server.grants["team-risk"], {("experiment", "5"): "MANAGE"})
        self.assertIn("team-fraud: created, with the password from its secret", output)
        self.assertIn("team-fraud: granted MANAGE on experiment 'fraud/churn'", output)
        self.assertIn("user sync complete: 2 team users in sync (6 changes), 0 disabled", output)
        self.assertFalse(any(password in output for password in ALL_PASSWORDS), output)

    def test_a_second_run_changes_nothing(self):
        server = FakeMlflow(experiments=EXPERIMENTS)
        self.assertEqual(sync(server)[0], 0)
        server.calls.clear()
        code, output = sync(server)
        self.assertEqual(code, 0, output)
        self.assertEqual(server.changes(), [])
        self.assertIn("team-fraud: exists and its password is the one in its secret", output)
        self.assertIn("(0 changes), 0 disabled", output)

    def test_repairs_a_changed_password_an_admin_flag_and_a_lower_grant(self):
        server = FakeMlflow(users={"team-fraud": {"password": "someone-changed-it", "is_admin": True}}, experiments=EXPERIMENTS)
        server.grants["team-fraud"][("experiment", "1")] = "READ"
        code, output = sync(server)
        self.assertEqual(code, 0, output)
        self.assertTrue(server.logs_in("team-fraud", FRAUD_PASSWORD))
        self.assertFalse(server.users["team-fraud"]["is_admin"])
        self.assertEqual(server.grants["team-fraud"][("experiment", "1")], "MANAGE")
        self.assertIn("team-fraud: set its password from its secret", output)
        self.assertIn("team-fraud: took away its admin rights", output)
        self.assertIn("granted MANAGE on experiment 'fraud/churn' (was READ)", output)

    def test_disables_the_users_of_teams_no_longer_listed_and_leaves_people_alone(self):
        server = FakeMlflow(experiments=EXPERIMENTS)
        self.assertEqual(sync(server)[0], 0)
        server.users["alice"] = {"password": "alice-Pa55word", "is_admin": False}
        server.users["teamlead"] = {"password": "teamlead-Pa55word", "is_admin": False}
        smaller = {**SYNC_ENV, "MLFLOW_TEAMS": '[{"team": "fraud", "secretId": "fraud-id", "registeredModels": ["fraud-scorer"]}]'}
        for _ in range(2):
            code, output = sync(server, smaller)
            self.assertEqual(code, 0, output)
            self.assertFalse(server.logs_in("team-risk", RISK_PASSWORD))
            self.assertIn("team-risk: disabled, as its team is not listed", output)
            self.assertIn("1 team user in sync (0 changes), 1 disabled", output)
        self.assertTrue(server.logs_in("team-fraud", FRAUD_PASSWORD))
        self.assertTrue(server.logs_in("alice", "alice-Pa55word"))
        self.assertTrue(server.logs_in("teamlead", "teamlead-Pa55word"))
        self.assertTrue(server.logs_in(*FakeMlflow.ADMIN))
        # Kept, so that listing the team again gives it back everything.
        self.assertEqual(server.grants["team-risk"], {("experiment", "5"): "MANAGE"})
        self.assertFalse(any(server.users["team-risk"]["password"] in line for line in output.splitlines()))
        code, output = sync(server)
        self.assertTrue(server.logs_in("team-risk", RISK_PASSWORD))
        self.assertIn("team-risk: set its password from its secret", output)

    def test_waits_for_the_server(self):
        server = FakeMlflow(health=[None, 503, 200])
        code, output = sync(server)
        self.assertEqual(code, 0, output)
        self.assertIn("waiting for the tracking server at http://mlflow.mlflow.svc.cluster.local: /health failed", output)
        self.assertIn("/health answered 503", output)

    def test_gives_up_on_a_server_that_never_answers(self):
        code, output = sync(FakeMlflow(health=[503]), {**SYNC_ENV, "MLFLOW_SERVER_WAIT_SECONDS": "0"})
        self.assertEqual(code, 1)
        self.assertIn("did not answer within 0 s (/health answered 503)", output)

    def test_an_admin_secret_that_no_longer_logs_in_is_named(self):
        server = FakeMlflow()
        server.users["admin"]["password"] = "changed-in-mlflow-only"
        code, output = sync(server)
        self.assertEqual(code, 1)
        self.assertIn("the admin secret does not log in as admin", output)
        self.assertEqual(output.strip().splitlines()[-1].count("\n"), 0)

    def test_a_team_secret_for_another_user_or_with_a_short_password_is_refused(self):
        for secret_id, expected in (("misnamed-id", "names user 'team-other', expected 'team-fraud'"), ("short-id", "shorter than 12")):
            teams = json.dumps([{"team": "fraud", "secretId": secret_id, "registeredModels": []}])
            server = FakeMlflow()
            code, output = sync(server, {**SYNC_ENV, "MLFLOW_TEAMS": teams})
            self.assertEqual(code, 2)
            self.assertIn(expected, output)
            self.assertEqual(server.calls, [])
            self.assertNotIn("short\n", output)

    def test_errors_from_the_server_do_not_echo_a_password(self):
        server = FakeMlflow()
        api = entrypoint.MlflowApi(server, "http://mlflow.mlflow.svc.cluster.local", FakeMlflow.ADMIN)
        api.hide("sh0rt")
        with mlflow_stand_in(server), self.assertRaises(entrypoint.StepFailed) as caught:
            api.set_password("admin", "sh0rt")
        self.assertIn("answered 400: INVALID_PARAMETER_VALUE bad ***", str(caught.exception))


class WriteCredentialsTest(unittest.TestCase):
    def run_write(self, home):
        with stand_ins(FakeDatabase()) as stderr:
            code = entrypoint.main(["entrypoint.py", "write-credentials"], {**CREDENTIALS_ENV, "HOME": home})
        return code, stderr.getvalue()

    def test_writes_the_client_credentials_file_only_its_user_can_read(self):
        with tempfile.TemporaryDirectory() as home:
            code, output = self.run_write(home)
            self.assertEqual(code, 0, output)
            directory = os.path.join(home, ".mlflow")
            path = os.path.join(directory, "credentials")
            self.assertEqual(stat.S_IMODE(os.stat(directory).st_mode), 0o700)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
            # As mlflow/utils/credentials.py reads it: configparser, section mlflow, the variables' names in lower case.
            parser = configparser.ConfigParser()
            parser.read(path)
            self.assertEqual(parser["mlflow"]["mlflow_tracking_username"], "team-fraud")
            self.assertEqual(parser["mlflow"]["mlflow_tracking_password"], FRAUD_PASSWORD)
            # A restarted init container overwrites the file rather than failing on it.
            self.assertEqual(self.run_write(home)[0], 0)
        self.assertIn("wrote the MLflow login of team-fraud to", output)
        self.assertNotIn(FRAUD_PASSWORD, output)

    def test_refuses_a_home_that_is_not_a_volume_path(self):
        for home in ("relative", "/"):
            code, output = self.run_write(home)
            self.assertEqual(code, 2)
            self.assertIn("HOME must be the absolute path", output)


if __name__ == "__main__":
    unittest.main()
