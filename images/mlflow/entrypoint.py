"""Entrypoint of the MLflow tracking server image.

``migrate`` runs once per image in a Kubernetes Job that may read the RDS master secret: it sets
up the ``mlflow_app`` login role and its databases, then brings both schemas to the installed
MLflow's head. ``serve`` runs in the Deployment, which may read only the app-user, Flask and admin
secrets: it waits for the schema the Job migrates, then replaces itself with ``mlflow server``.
``sync-users`` runs in a Job whenever the team list changes: as the MLflow admin, it gives every
team a ``team-<team>`` user with the password from the team's secret and MANAGE on the team's
experiments and registered models, and disables the users of teams no longer listed.
``write-credentials`` runs as an init container of a team's job: it writes the team user's login
into the MLflow client's credentials file, in a scratch volume the job's container uses as HOME.
``promote`` is the promotion gate run after a team's training: see promotion.py.

Credentials come from Secrets Manager through the pod's identity and stay in this process's
environment or in a 0600 file under the temporary directory; no password is printed, passed on
a command line or written into a database URI.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Iterator, Mapping, Sequence
from urllib.parse import quote

import promotion
import steps
from steps import ConfigError, StepFailed, require_env

LOG_PREFIX = "[mlflow-platform]"

# RDS always has this database, so the advisory lock and the role setup do not depend on the
# databases they create.
MAINTENANCE_DB = "postgres"
# Any constant works as long as every migration run uses the same one in the same database.
MIGRATION_LOCK_KEY = 0x6D6C666C6F77
LOCK_POLL_SECONDS = 10
LOCK_WAIT_SECONDS = 30 * 60

SCHEMA_WAIT_SECONDS = 10 * 60
CONNECT_TIMEOUT_SECONDS = 10

DEFAULT_DB_PORT = 5432
DEFAULT_BACKEND_DB = "mlflow"
DEFAULT_AUTH_DB = "mlflow_auth"
DEFAULT_SERVER_PORT = 5000
DEFAULT_WORKERS = 2

BASIC_AUTH_APP = "basic-auth"
DEFAULT_AUTHORIZATION_FUNCTION = "mlflow.server.auth:authenticate_request_basic_auth"
# Every signed-in user may read every experiment and model, so teams can compare and reuse each
# other's work; changing anything needs EDIT or MANAGE, which creators get on what they create.
DEFAULT_PERMISSION = "READ"

# PostgreSQL folds unquoted names to lower case; keeping to this shape means the names in URIs,
# logs and SQL are the same string.
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_HOST_PATTERN = re.compile(r"^[A-Za-z0-9*?\[\]._:-]+$")


log = steps.logger(LOG_PREFIX)


class SchemaAhead(StepFailed):
    """The database was migrated by a newer MLflow than this image's."""


# ---------------------------------------------------------------------------------------------
# Configuration


def optional_env(environ: Mapping[str, str], name: str, default: str) -> str:
    return environ.get(name, "").strip() or default


def parse_int(value: str, name: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name} must be an integer from {low} to {high}") from None
    if not low <= number <= high:
        raise ConfigError(f"{name} must be an integer from {low} to {high}")
    return number


def check_identifier(value: str, what: str) -> str:
    if not _IDENTIFIER.match(value):
        raise ConfigError(f"{what} must be a lower-case PostgreSQL name (letters, digits, _), got {value!r}")
    return value


def parse_allowed_hosts(value: str) -> str:
    """MLflow's --allowed-hosts takes one comma-separated list of Host header patterns."""
    hosts = [host.strip() for host in value.split(",") if host.strip()]
    if not hosts:
        raise ConfigError("MLFLOW_ALLOWED_HOSTS must list at least one host name")
    for host in hosts:
        if not _HOST_PATTERN.match(host):
            raise ConfigError(f"MLFLOW_ALLOWED_HOSTS holds an invalid host pattern {host!r}")
    return ",".join(hosts)


class DatabaseSettings:
    def __init__(self, environ: Mapping[str, str]):
        self.host = require_env(environ, "MLFLOW_DB_HOST")
        self.port = parse_int(
            optional_env(environ, "MLFLOW_DB_PORT", str(DEFAULT_DB_PORT)), "MLFLOW_DB_PORT", 1, 65535
        )
        self.backend_db = check_identifier(
            optional_env(environ, "MLFLOW_BACKEND_DB", DEFAULT_BACKEND_DB), "MLFLOW_BACKEND_DB"
        )
        self.auth_db = check_identifier(optional_env(environ, "MLFLOW_AUTH_DB", DEFAULT_AUTH_DB), "MLFLOW_AUTH_DB")
        if self.backend_db == self.auth_db:
            raise ConfigError("MLFLOW_BACKEND_DB and MLFLOW_AUTH_DB must name different databases")


def database_uri(user: str, host: str, port: int, dbname: str) -> str:
    """A SQLAlchemy URI without a password: libpq takes it from PGPASSWORD.

    The driver is named because SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3, which the
    image does not install.
    """
    host_part = f"[{host}]" if ":" in host else host
    return f"postgresql+psycopg2://{quote(user, safe='')}@{host_part}:{port}/{quote(dbname, safe='')}"


# ---------------------------------------------------------------------------------------------
# Secrets


def parse_json_secret(text: str, label: str, keys: Sequence[str]) -> dict:
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"{label} is not a JSON object") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{label} is not a JSON object")
    for key in keys:
        if not isinstance(document.get(key), str) or not document[key]:
            raise ConfigError(f"{label} has no non-empty string field {key!r}")
    return document


def secrets_client(region: str):
    import boto3

    return boto3.client("secretsmanager", region_name=region)


def read_secret(client, secret_id: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_secret_value(SecretId=secret_id)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "unknown")
        raise StepFailed(f"could not read secret {secret_id}: {code}") from None
    except BotoCoreError as error:
        raise StepFailed(f"could not read secret {secret_id}: {type(error).__name__}") from None
    if "SecretString" not in response:
        raise ConfigError(f"secret {secret_id} holds binary data, expected a string")
    return response["SecretString"]


def read_login_secret(client, secret_id: str, label: str) -> tuple[str, str]:
    document = parse_json_secret(read_secret(client, secret_id), f"{label} {secret_id}", ("username", "password"))
    return document["username"], document["password"]


# ---------------------------------------------------------------------------------------------
# Basic-auth configuration


def ini_value(value: str, what: str) -> str:
    """Makes a value safe for configparser, which MLflow reads the file with."""
    if "\n" in value or "\r" in value or value != value.strip():
        raise ConfigError(f"{what} must not contain line breaks or leading/trailing spaces")
    # configparser's default interpolation treats % as special.
    return value.replace("%", "%%")


def render_auth_config(database_uri_value: str, admin_username: str, admin_password: str) -> str:
    lines = [
        "[mlflow]",
        f"default_permission = {DEFAULT_PERMISSION}",
        f"database_uri = {ini_value(database_uri_value, 'the auth database URI')}",
        f"admin_username = {ini_value(admin_username, 'the admin user name')}",
        f"admin_password = {ini_value(admin_password, 'the admin password')}",
        f"authorization_function = {DEFAULT_AUTHORIZATION_FUNCTION}",
    ]
    return "\n".join(lines) + "\n"


def write_private_file(directory: str, name: str, content: str) -> str:
    """Writes a file only this user can read, refusing to follow a planted symlink."""
    path = os.path.join(directory, name)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, content.encode("utf-8"))
    finally:
        os.close(descriptor)
    return path


# ---------------------------------------------------------------------------------------------
# Waiting


def backoff_delays(first: float = 2.0, factor: float = 2.0, ceiling: float = 30.0) -> Iterator[float]:
    delay = first
    while True:
        yield delay
        delay = min(delay * factor, ceiling)


def describe_revisions(revisions: set[str] | None) -> str:
    if revisions is None:
        return "no MLflow schema"
    return ", ".join(sorted(revisions)) or "no revision"


def database_error_summary(error: Exception) -> str:
    """PostgreSQL's message with its DETAIL and HINT lines, which name the fix, and without the
    statement text (which may carry a password verifier)."""
    diag = getattr(error, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    text = (primary or str(error).strip() or type(error).__name__).splitlines()[0]
    for label, field in (("DETAIL", "message_detail"), ("HINT", "message_hint")):
        extra = getattr(diag, field, None) if diag is not None else None
        if extra:
            text += f" {label}: {' '.join(extra.split())}"
    return text


# ---------------------------------------------------------------------------------------------
# Database setup (migrate)


def connect(settings: DatabaseSettings, dbname: str, user: str, password: str | None, purpose: str):
    import psycopg2

    # sslmode and the CA bundle come from PGSSLMODE and PGSSLROOTCERT, set in the image.
    arguments = {
        "host": settings.host,
        "port": settings.port,
        "dbname": dbname,
        "user": user,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "application_name": f"mlflow-platform-{purpose}",
    }
    if password is not None:
        arguments["password"] = password
    try:
        connection = psycopg2.connect(**arguments)
    except psycopg2.Error as error:
        raise StepFailed(f"could not connect to database {dbname} as {user}: {database_error_summary(error)}") from None
    connection.autocommit = True
    return connection


def acquire_migration_lock(connection, wait_seconds: float = LOCK_WAIT_SECONDS) -> None:
    deadline = time.monotonic() + wait_seconds
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
            if cursor.fetchone()[0]:
                log("holding the migration lock")
                return
            if time.monotonic() + LOCK_POLL_SECONDS > deadline:
                raise StepFailed(f"another migration held the lock for more than {int(wait_seconds)} s")
            log("another migration holds the lock; waiting")
            time.sleep(LOCK_POLL_SECONDS)


def ensure_app_role(connection, app_user: str, app_password: str) -> None:
    from psycopg2 import sql
    from psycopg2.extensions import encrypt_password

    # A SCRAM verifier instead of the password keeps the cleartext out of statement logs.
    verifier = encrypt_password(app_password, app_user, connection, "scram-sha-256")
    role = sql.Identifier(app_user)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (app_user,))
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE ROLE {} WITH LOGIN PASSWORD %s").format(role), (verifier,))
            log(f"created login role {app_user}")
        else:
            cursor.execute(sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD %s").format(role), (verifier,))
            log(f"set the password of login role {app_user} from its secret")
        # PostgreSQL 16+ gives a CREATEROLE creator only ADMIN OPTION on the new role; handing
        # objects over to it needs membership.
        cursor.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))


def ensure_database(connection, dbname: str, owner: str) -> None:
    from psycopg2 import sql

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,))
        if cursor.fetchone() is None:
            cursor.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(dbname), sql.Identifier(owner))
            )
            log(f"created database {dbname} owned by {owner}")


# relkind -> the ALTER form that changes its owner
_RELATION_KINDS = {
    "r": "TABLE",
    "p": "TABLE",
    "f": "FOREIGN TABLE",
    "v": "VIEW",
    "m": "MATERIALIZED VIEW",
    "S": "SEQUENCE",
}
_TYPE_KINDS = {"e": "TYPE", "d": "DOMAIN"}

# Sequences that belong to a column move with their table and cannot be altered on their own.
_OWNED_RELATIONS = """
SELECT c.relname, c.relkind
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public'
  AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'S')
  AND NOT (c.relkind = 'S' AND EXISTS (
    SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i')))
ORDER BY c.relname
"""

_OWNED_TYPES = """
SELECT t.typname, t.typtype
FROM pg_type t
JOIN pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = 'public'
  AND t.typowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND t.typtype IN ('e', 'd')
ORDER BY t.typname
"""


def hand_over_database(control, settings: DatabaseSettings, dbname: str, master: tuple[str, str], owner: str) -> None:
    """Makes the app role own the database, its public schema and what the master created there.

    Reassigning object by object rather than REASSIGN OWNED, which would also hand over every
    database the master owns.
    """
    from psycopg2 import sql

    target = sql.Identifier(owner)
    connection = connect(settings, dbname, master[0], master[1], "migrate")
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(target))
            cursor.execute(_OWNED_RELATIONS)
            relations = cursor.fetchall()
            for name, kind in relations:
                cursor.execute(
                    sql.SQL("ALTER {} public.{} OWNER TO {}").format(
                        sql.SQL(_RELATION_KINDS[kind]), sql.Identifier(name), target
                    )
                )
            cursor.execute(_OWNED_TYPES)
            types = cursor.fetchall()
            for name, kind in types:
                cursor.execute(
                    sql.SQL("ALTER {} public.{} OWNER TO {}").format(
                        sql.SQL(_TYPE_KINDS[kind]), sql.Identifier(name), target
                    )
                )
    finally:
        connection.close()
    with control.cursor() as cursor:
        cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(dbname), target))
    moved = len(relations) + len(types)
    suffix = f"; moved {moved} existing objects to it" if moved else ""
    log(f"database {dbname} and its public schema are owned by {owner}{suffix}")


def run_as_app(command: Sequence[str], app_password: str, what: str) -> None:
    environment = dict(os.environ)
    environment["PGPASSWORD"] = app_password
    log(f"running {what}")
    result = subprocess.run(list(command), env=environment, check=False)
    if result.returncode != 0:
        raise StepFailed(f"{what} failed with exit code {result.returncode}")
    log(f"finished {what}")


def mlflow_executable() -> str:
    executable = shutil.which("mlflow")
    if executable is None:
        raise StepFailed("the mlflow command is not installed in this image")
    return executable


def migration_commands(settings: DatabaseSettings, app_user: str) -> list[tuple[list[str], str]]:
    """The auth schema goes first, so a tracking schema at head means both are migrated."""
    auth_uri = database_uri(app_user, settings.host, settings.port, settings.auth_db)
    backend_uri = database_uri(app_user, settings.host, settings.port, settings.backend_db)
    return [
        (
            [sys.executable, "-m", "mlflow.server.auth", "db", "upgrade", "--url", auth_uri, "--revision", "head"],
            f"the basic-auth schema migration of {settings.auth_db}",
        ),
        ([mlflow_executable(), "db", "upgrade", backend_uri], f"mlflow db upgrade of {settings.backend_db}"),
    ]


def migrate(environ: Mapping[str, str]) -> None:
    region = require_env(environ, "AWS_REGION")
    settings = DatabaseSettings(environ)
    app_secret_id = require_env(environ, "MLFLOW_DB_APP_SECRET_ID")
    master_secret_id = require_env(environ, "MLFLOW_DB_MASTER_SECRET_ID")

    lock_wait = parse_int(
        optional_env(environ, "MLFLOW_MIGRATION_LOCK_WAIT_SECONDS", str(LOCK_WAIT_SECONDS)),
        "MLFLOW_MIGRATION_LOCK_WAIT_SECONDS",
        0,
        24 * 3600,
    )

    client = secrets_client(region)
    master = read_login_secret(client, master_secret_id, "master secret")
    app_user, app_password = read_login_secret(client, app_secret_id, "app-user secret")
    check_identifier(app_user, "the app-user secret's username")
    if app_user == master[0]:
        raise ConfigError("the app-user secret must name a role other than the master user")
    log(f"read the master secret (user {master[0]}) and the app-user secret (user {app_user})")

    import psycopg2

    control = connect(settings, MAINTENANCE_DB, master[0], master[1], "migrate")
    try:
        acquire_migration_lock(control, lock_wait)
        ensure_app_role(control, app_user, app_password)
        for dbname in (settings.backend_db, settings.auth_db):
            ensure_database(control, dbname, app_user)
            hand_over_database(control, settings, dbname, master, app_user)
        # The lock stays held: two Jobs must never run MLflow's migrations at once.
        for command, what in migration_commands(settings, app_user):
            run_as_app(command, app_password, what)
    except psycopg2.Error as error:
        # The summary leaves out the statement, which may carry the password verifier.
        raise StepFailed(f"database setup failed: {database_error_summary(error)}") from None
    finally:
        control.close()
    log("migration complete")


# ---------------------------------------------------------------------------------------------
# Serving


def current_schema_revisions(settings: DatabaseSettings, app_user: str) -> set[str] | None:
    """Alembic's revisions recorded in the tracking database, or None before the first migration."""
    import psycopg2
    from psycopg2 import errors

    connection = connect(settings, settings.backend_db, app_user, None, "serve")
    try:
        with connection.cursor() as cursor:
            try:
                cursor.execute("SELECT version_num FROM alembic_version")
            except errors.UndefinedTable:
                return None
            return {row[0] for row in cursor.fetchall()}
    except psycopg2.Error as error:
        raise StepFailed(f"could not read the schema revision: {database_error_summary(error)}") from None
    finally:
        connection.close()


def known_schema_revisions() -> set[str]:
    """Every tracking schema revision this image's MLflow can migrate to or from."""
    from alembic.script import ScriptDirectory
    from mlflow.store.db.utils import _get_alembic_config

    return {script.revision for script in ScriptDirectory.from_config(_get_alembic_config("")).walk_revisions()}


def latest_schema_revision() -> str:
    # The function MLflow's own schema check (_verify_schema) compares the database against.
    from mlflow.store.db.utils import _get_latest_schema_revision

    return _get_latest_schema_revision()


def wait_for_schema(settings: DatabaseSettings, app_user: str, wait_seconds: float = SCHEMA_WAIT_SECONDS) -> None:
    head = latest_schema_revision()
    known = known_schema_revisions()
    deadline = time.monotonic() + wait_seconds
    found: set[str] | None = None
    for delay in backoff_delays():
        try:
            found = current_schema_revisions(settings, app_user)
            if found == {head}:
                log(f"tracking schema of {settings.backend_db} is at head {head}")
                return
            if found is not None and not found <= known:
                # No migration Job of this image will ever change that: waiting cannot help.
                raise SchemaAhead(
                    f"tracking schema of {settings.backend_db} is at {describe_revisions(found)}, which this image's "
                    f"MLflow does not know (its head is {head}): a newer MLflow image has migrated the database. "
                    "Deploy that image, or restore the database from before the upgrade (docs/runbooks/restore-database.md)"
                )
            state = f"found {describe_revisions(found)}"
        except SchemaAhead:
            raise
        except StepFailed as error:
            state = str(error)
        if time.monotonic() + delay > deadline:
            raise StepFailed(
                f"tracking schema of {settings.backend_db} did not reach {head} within {int(wait_seconds)} s "
                f"({state}); has the migration Job for this image run?"
            )
        log(f"waiting for the migration Job: tracking schema should be at {head}, {state}; next check in {delay:g} s")
        time.sleep(delay)


def server_command(
    mlflow: str,
    port: int,
    workers: int,
    backend_uri: str,
    artifacts_destination: str,
    allowed_hosts: str,
) -> list[str]:
    return [
        mlflow,
        "server",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--backend-store-uri",
        backend_uri,
        # Clients get mlflow-artifacts:/ locations and send artifacts through the server, which
        # alone holds S3 access.
        "--serve-artifacts",
        "--default-artifact-root",
        "mlflow-artifacts:/",
        "--artifacts-destination",
        artifacts_destination,
        "--app-name",
        BASIC_AUTH_APP,
        "--allowed-hosts",
        allowed_hosts,
    ]


def serve(environ: Mapping[str, str]) -> None:
    region = require_env(environ, "AWS_REGION")
    settings = DatabaseSettings(environ)
    app_secret_id = require_env(environ, "MLFLOW_DB_APP_SECRET_ID")
    flask_secret_id = require_env(environ, "MLFLOW_FLASK_SECRET_ID")
    admin_secret_id = require_env(environ, "MLFLOW_ADMIN_SECRET_ID")
    artifacts_destination = require_env(environ, "MLFLOW_ARTIFACTS_DESTINATION")
    allowed_hosts = parse_allowed_hosts(require_env(environ, "MLFLOW_ALLOWED_HOSTS"))
    workers = parse_int(optional_env(environ, "MLFLOW_WORKERS", str(DEFAULT_WORKERS)), "MLFLOW_WORKERS", 1, 64)
    port = parse_int(optional_env(environ, "MLFLOW_PORT", str(DEFAULT_SERVER_PORT)), "MLFLOW_PORT", 1, 65535)
    schema_wait = parse_int(
        optional_env(environ, "MLFLOW_SCHEMA_WAIT_SECONDS", str(SCHEMA_WAIT_SECONDS)), "MLFLOW_SCHEMA_WAIT_SECONDS", 0, 3600
    )
    mlflow = mlflow_executable()

    client = secrets_client(region)
    app_user, app_password = read_login_secret(client, app_secret_id, "app-user secret")
    check_identifier(app_user, "the app-user secret's username")
    flask_secret_key = read_secret(client, flask_secret_id)
    if not flask_secret_key.strip():
        raise ConfigError(f"secret {flask_secret_id} is empty")
    admin_user, admin_password = read_login_secret(client, admin_secret_id, "admin secret")
    log(f"read the app-user secret (user {app_user}), the Flask secret key and the admin secret (user {admin_user})")

    auth_uri = database_uri(app_user, settings.host, settings.port, settings.auth_db)
    backend_uri = database_uri(app_user, settings.host, settings.port, settings.backend_db)
    # One fixed path in the pod's scratch volume: a restarted container overwrites it rather than
    # leaving one more copy of the admin password behind.
    config_dir = os.path.join(tempfile.gettempdir(), "mlflow-auth")
    os.makedirs(config_dir, mode=0o700, exist_ok=True)
    config_path = write_private_file(
        config_dir, "basic_auth.ini", render_auth_config(auth_uri, admin_user, admin_password)
    )
    log(f"wrote the basic-auth configuration to {config_path} (mode 0600, default_permission {DEFAULT_PERMISSION})")

    # Inherited by mlflow server: libpq reads PGPASSWORD, MLflow the other two.
    os.environ["PGPASSWORD"] = app_password
    os.environ["MLFLOW_FLASK_SERVER_SECRET_KEY"] = flask_secret_key
    os.environ["MLFLOW_AUTH_CONFIG_PATH"] = config_path

    try:
        wait_for_schema(settings, app_user, schema_wait)
    except BaseException:
        # The server never starts, so nothing will read the file again.
        os.remove(config_path)
        raise

    command = server_command(mlflow, port, workers, backend_uri, artifacts_destination, allowed_hosts)
    log(
        f"starting mlflow server on port {port} with {workers} workers, backend {backend_uri}, "
        f"artifacts {artifacts_destination}, allowed hosts {allowed_hosts}"
    )
    os.execv(command[0], command)


# ---------------------------------------------------------------------------------------------
# Team users (sync-users) and their credentials in jobs (write-credentials)

# Every team's MLflow user is this prefix and the team name. The prefix is reserved: sync-users
# disables any user that carries it and whose team is no longer listed.
TEAM_USER_PREFIX = "team-"
# Experiments whose names start with "<team>/" are the team's (registered-model names cannot hold
# a "/", so the team's models are those its config serves, named in MLFLOW_TEAMS).
EXPERIMENT_SEPARATOR = "/"
TEAM_PERMISSION = "MANAGE"
# MLflow refuses shorter passwords (mlflow/utils/validation.py, _validate_password).
MIN_PASSWORD_LENGTH = 12
SERVER_WAIT_SECONDS = 20 * 60
HTTP_TIMEOUT_SECONDS = 30
SEARCH_PAGE_SIZE = 1000
# The team names config allows (DNS labels), so a user name maps back to exactly one team.
_TEAM_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")

# The basic-auth app's admin REST API (mlflow/server/auth/routes.py).
USERS_LIST = "/api/2.0/mlflow/users/list"
USERS_CREATE = "/api/2.0/mlflow/users/create"
USERS_CURRENT = "/api/2.0/mlflow/users/current"
USERS_UPDATE_PASSWORD = "/api/2.0/mlflow/users/update-password"
USERS_UPDATE_ADMIN = "/api/2.0/mlflow/users/update-admin"
PERMISSIONS_LIST = "/api/3.0/mlflow/users/permissions/list"
PERMISSIONS_GRANT = "/api/3.0/mlflow/users/permissions/grant"
PERMISSIONS_REVOKE = "/api/3.0/mlflow/users/permissions/revoke"
EXPERIMENTS_SEARCH = "/api/2.0/mlflow/experiments/search"
VIEW_TYPE_ALL = 3

CREDENTIALS_DIRECTORY = ".mlflow"
CREDENTIALS_FILE = "credentials"


def team_user(team: str) -> str:
    return f"{TEAM_USER_PREFIX}{team}"


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class TeamAccount:
    """One listed team: its secret's ARN and the registered models its config serves."""

    def __init__(self, team: str, secret_id: str, registered_models: Sequence[str]):
        self.team = team
        self.secret_id = secret_id
        self.registered_models = sorted(set(registered_models))
        self.username = team_user(team)
        self.password = ""


def parse_team_accounts(text: str) -> list[TeamAccount]:
    """MLFLOW_TEAMS: a JSON list of {"team", "secretId", "registeredModels"}, possibly empty."""
    what = "MLFLOW_TEAMS"
    try:
        document = json.loads(text)
    except ValueError:
        raise ConfigError(f"{what} is not JSON") from None
    if not isinstance(document, list):
        raise ConfigError(f"{what} must be a JSON list of teams")
    accounts: dict[str, TeamAccount] = {}
    for index, entry in enumerate(document):
        where = f"{what}[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"team", "secretId", "registeredModels"}:
            raise ConfigError(f"{where} must be an object with exactly team, secretId and registeredModels")
        team, secret_id, models = entry["team"], entry["secretId"], entry["registeredModels"]
        if not isinstance(team, str) or not _TEAM_NAME.match(team):
            raise ConfigError(f"{where}.team must be a DNS label (lower-case letters, digits, -), got {team!r}")
        if not isinstance(secret_id, str) or not secret_id.strip():
            raise ConfigError(f"{where}.secretId must name the team's secret")
        if not isinstance(models, list) or not all(isinstance(model, str) and model for model in models):
            raise ConfigError(f"{where}.registeredModels must be a list of registered-model names")
        if team in accounts:
            raise ConfigError(f"{where}.team {team!r} is listed twice")
        accounts[team] = TeamAccount(team, secret_id, models)
    return [accounts[team] for team in sorted(accounts)]


def read_team_password(client, account: TeamAccount) -> str:
    username, password = read_login_secret(client, account.secret_id, f"the secret of team {account.team}")
    if username != account.username:
        raise ConfigError(
            f"the secret of team {account.team} ({account.secret_id}) names user {username!r}, expected {account.username!r}"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ConfigError(f"the secret of team {account.team} holds a password shorter than {MIN_PASSWORD_LENGTH} characters")
    return password


class MlflowApi:
    """The tracking server's REST API as its admin, through ``session`` (a requests.Session).

    Error messages carry MLflow's error code and message with every password this process
    holds blanked out, and never a request body.
    """

    def __init__(self, session, url: str, admin: tuple[str, str], hidden: Sequence[str] = ()):
        self.session = session
        self.url = url.rstrip("/")
        self.admin = admin
        self.hidden = [value for value in (admin[1], *hidden) if value]

    def hide(self, *values: str) -> None:
        self.hidden.extend(value for value in values if value)

    def _redact(self, text: str) -> str:
        for value in self.hidden:
            text = text.replace(value, "***")
        # SQL errors quote the statement and its parameters; the first line says what failed.
        lines = text.split("[SQL", 1)[0].strip().splitlines()
        return lines[0][:300] if lines else ""

    def request(self, method: str, path: str, *, auth=None, expected=(200,), **kwargs):
        from requests import RequestException

        try:
            response = self.session.request(
                method, self.url + path, auth=auth or self.admin, timeout=HTTP_TIMEOUT_SECONDS, **kwargs
            )
        except RequestException as error:
            raise StepFailed(f"{method} {path} failed: {type(error).__name__}") from None
        if response.status_code not in expected:
            try:
                body = response.json()
                detail = f"{body.get('error_code', '')} {self._redact(str(body.get('message', '')))}".strip()
            except ValueError:
                detail = ""
            raise StepFailed(f"{method} {path} answered {response.status_code}{': ' + detail if detail else ''}")
        return response

    def json(self, method: str, path: str, **kwargs) -> dict:
        response = self.request(method, path, **kwargs)
        try:
            return response.json() if response.content else {}
        except ValueError:
            raise StepFailed(f"{method} {path} did not answer JSON") from None

    def wait_until_healthy(self, wait_seconds: float) -> None:
        from requests import RequestException

        deadline = time.monotonic() + wait_seconds
        for delay in backoff_delays():
            try:
                status = self.session.request("GET", self.url + "/health", timeout=HTTP_TIMEOUT_SECONDS).status_code
                state = f"/health answered {status}"
            except RequestException as error:
                status, state = None, f"/health failed: {type(error).__name__}"
            if status == 200:
                log(f"the tracking server at {self.url} is up")
                return
            if time.monotonic() + delay > deadline:
                raise StepFailed(f"the tracking server at {self.url} did not answer within {int(wait_seconds)} s ({state})")
            log(f"waiting for the tracking server at {self.url}: {state}; next check in {delay:g} s")
            time.sleep(delay)

    def users(self) -> dict[str, bool]:
        """User name -> whether the user is an admin."""
        response = self.request("GET", USERS_LIST, expected=(200, 401))
        if response.status_code == 401:
            raise StepFailed(
                f"the admin secret does not log in as {self.admin[0]}: after changing the admin password in MLflow, "
                "put the new one into the admin secret too (docs/mlflow.md)"
            )
        try:
            listed = response.json().get("users", [])
        except ValueError:
            raise StepFailed(f"GET {USERS_LIST} did not answer JSON") from None
        return {user["username"]: bool(user.get("is_admin")) for user in listed}

    def can_log_in(self, username: str, password: str) -> bool:
        response = self.request("GET", USERS_CURRENT, auth=(username, password), expected=(200, 401))
        return response.status_code == 200

    def create_user(self, username: str, password: str) -> None:
        self.json("POST", USERS_CREATE, json={"username": username, "password": password})

    def set_password(self, username: str, password: str) -> None:
        self.json("PATCH", USERS_UPDATE_PASSWORD, json={"username": username, "password": password})

    def set_admin(self, username: str, is_admin: bool) -> None:
        self.json("PATCH", USERS_UPDATE_ADMIN, json={"username": username, "is_admin": is_admin})

    def grants(self, username: str) -> dict[tuple[str, str], str]:
        """(resource type, resource id) -> permission, of the user's own grants."""
        rows = self.json("GET", PERMISSIONS_LIST, params={"username": username}).get("permissions", [])
        return {(row["resource_type"], row["resource_pattern"]): row["permission"] for row in rows}

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        body = {"username": username, "resource_type": resource_type, "resource_id": resource_id, "permission": permission}
        self.json("POST", PERMISSIONS_GRANT, json=body)

    def revoke(self, username: str, resource_type: str, resource_id: str) -> None:
        body = {"username": username, "resource_type": resource_type, "resource_id": resource_id}
        self.json("POST", PERMISSIONS_REVOKE, json=body)

    def experiments_named(self, prefix: str) -> list[tuple[str, str]]:
        """(id, name) of every experiment, deleted ones included, whose name starts with ``prefix``."""
        found: list[tuple[str, str]] = []
        token = None
        while True:
            body = {"filter": f"name LIKE '{prefix}%'", "max_results": SEARCH_PAGE_SIZE, "view_type": VIEW_TYPE_ALL}
            if token:
                body["page_token"] = token
            page = self.json("POST", EXPERIMENTS_SEARCH, json=body)
            # LIKE's wildcards cannot occur in a team name, but the prefix is checked once more.
            found.extend(
                (experiment["experiment_id"], experiment["name"])
                for experiment in page.get("experiments", [])
                if experiment["name"].startswith(prefix)
            )
            token = page.get("next_page_token")
            if not token:
                return found


def team_resources(api: MlflowApi, account: TeamAccount) -> list[tuple[str, str, str]]:
    """(resource type, resource id, what to call it in the log) of everything the team manages."""
    prefix = f"{account.team}{EXPERIMENT_SEPARATOR}"
    experiments = [("experiment", experiment_id, f"experiment {name!r}") for experiment_id, name in api.experiments_named(prefix)]
    models = [("registered_model", name, f"registered model {name!r}") for name in account.registered_models]
    return experiments + models


def sync_team(api: MlflowApi, account: TeamAccount, users: Mapping[str, bool]) -> int:
    """Brings one team's user to what its config and secret say; returns how many changes it made."""
    changes = 0
    name = account.username
    if name not in users:
        api.create_user(name, account.password)
        log(f"{name}: created, with the password from its secret")
        changes += 1
    elif api.can_log_in(name, account.password):
        log(f"{name}: exists and its password is the one in its secret")
    else:
        api.set_password(name, account.password)
        log(f"{name}: set its password from its secret")
        changes += 1
    if users.get(name):
        api.set_admin(name, False)
        log(f"{name}: took away its admin rights")
        changes += 1

    held = api.grants(name)
    resources = team_resources(api, account)
    for resource_type, resource_id, label in resources:
        current = held.get((resource_type, resource_id))
        if current == TEAM_PERMISSION:
            continue
        if current is not None:
            # The grant API inserts and refuses to overwrite; a lower grant (or a DENY) goes first.
            api.revoke(name, resource_type, resource_id)
        api.grant(name, resource_type, resource_id, TEAM_PERMISSION)
        log(f"{name}: granted {TEAM_PERMISSION} on {label}" + (f" (was {current})" if current else ""))
        changes += 1
    experiments = sum(1 for resource_type, _, _ in resources if resource_type == "experiment")
    log(
        f"{name}: {TEAM_PERMISSION} on {plural(experiments, 'experiment')} and "
        f"{plural(len(resources) - experiments, 'registered model')} of team {account.team}, {plural(changes, 'change')}"
    )
    return changes


def disable_user(api: MlflowApi, username: str, is_admin: bool) -> None:
    """MLflow has no disabled flag: the user keeps its name and grants (so listing the team again
    restores them) but gets a random password that is never stored or shown."""
    if is_admin:
        api.set_admin(username, False)
    password = secrets.token_urlsafe(48)
    api.hide(password)
    api.set_password(username, password)
    log(f"{username}: disabled, as its team is not listed: its password is now a random one nobody holds")


def sync_users(environ: Mapping[str, str]) -> None:
    region = require_env(environ, "AWS_REGION")
    url = require_env(environ, "MLFLOW_TRACKING_URI")
    admin_secret_id = require_env(environ, "MLFLOW_ADMIN_SECRET_ID")
    accounts = parse_team_accounts(require_env(environ, "MLFLOW_TEAMS"))
    wait = parse_int(
        optional_env(environ, "MLFLOW_SERVER_WAIT_SECONDS", str(SERVER_WAIT_SECONDS)), "MLFLOW_SERVER_WAIT_SECONDS", 0, 3600
    )

    client = secrets_client(region)
    admin = read_login_secret(client, admin_secret_id, "admin secret")
    for account in accounts:
        account.password = read_team_password(client, account)
    listed = ", ".join(account.team for account in accounts) or "none"
    log(f"read the admin secret (user {admin[0]}) and the secrets of {plural(len(accounts), 'team')}: {listed}")

    import requests

    with requests.Session() as session:
        api = MlflowApi(session, url, admin, [account.password for account in accounts])
        api.wait_until_healthy(wait)
        users = api.users()
        changes = sum(sync_team(api, account, users) for account in accounts)
        wanted = {account.username for account in accounts}
        stale = sorted(name for name in users if name.startswith(TEAM_USER_PREFIX) and name not in wanted and name != admin[0])
        for name in stale:
            disable_user(api, name, users[name])
    log(f"user sync complete: {plural(len(accounts), 'team user')} in sync ({plural(changes, 'change')}), {len(stale)} disabled")


def render_credentials(username: str, password: str) -> str:
    """The MLflow client's credentials file (mlflow/utils/credentials.py reads it with configparser)."""
    return (
        "[mlflow]\n"
        f"mlflow_tracking_username = {ini_value(username, 'the user name')}\n"
        f"mlflow_tracking_password = {ini_value(password, 'the password')}\n"
    )


def write_credentials(environ: Mapping[str, str]) -> None:
    region = require_env(environ, "AWS_REGION")
    secret_id = require_env(environ, "MLFLOW_CREDENTIALS_SECRET_ARN")
    home = require_env(environ, "HOME")
    if not os.path.isabs(home) or home == "/":
        raise ConfigError(f"HOME must be the absolute path of the job's scratch home volume, got {home!r}")

    username, password = read_login_secret(secrets_client(region), secret_id, "MLflow credentials secret")
    directory = os.path.join(home, CREDENTIALS_DIRECTORY)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    os.chmod(directory, 0o700)
    path = write_private_file(directory, CREDENTIALS_FILE, render_credentials(username, password))
    log(f"wrote the MLflow login of {username} to {path} (mode 0600)")


# ---------------------------------------------------------------------------------------------

COMMANDS = {"migrate": migrate, "serve": serve, "sync-users": sync_users, "write-credentials": write_credentials, "promote": promotion.command}


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    return steps.main("entrypoint.py", COMMANDS, argv, environ, log)


if __name__ == "__main__":
    sys.exit(main(sys.argv, os.environ))
