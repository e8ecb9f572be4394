"""Tests of entrypoint.py with stand-ins for boto3, psycopg2 and MLflow, none of which they need.

Run from the repository root: python3 -m unittest discover -s images/mlflow
"""

from __future__ import annotations

import configparser
import contextlib
import io
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
HEAD = "abc123head"

SECRETS = {
    "master-id": '{"username": "mlflow", "password": "%s", "host": "ignored", "port": 5432, "dbname": "mlflow"}'
    % MASTER_PASSWORD,
    "app-id": '{"username": "mlflow_app", "password": "%s"}' % APP_PASSWORD,
    "flask-id": FLASK_KEY,
    "admin-id": '{"username": "admin", "password": "%s"}' % ADMIN_PASSWORD,
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
ALL_PASSWORDS = (MASTER_PASSWORD, APP_PASSWORD, ADMIN_PASSWORD, FLASK_KEY)


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


if __name__ == "__main__":
    unittest.main()
