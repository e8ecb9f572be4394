"""The database the runtime tier runs against is set up the way the synthesized RDS instance is."""

from __future__ import annotations

import psycopg2
import pytest

from support.postgres import Login, postgres_major_version


def test_runs_the_postgresql_major_version_the_template_deploys(platform):
    data = platform.assembly.stack("Data")
    ((_, instance),) = data.resources("AWS::RDS::DBInstance")
    assert postgres_major_version() == int(str(instance["EngineVersion"]).split(".")[0])


def test_the_master_user_from_the_template_secret_is_not_a_superuser(platform):
    connection = platform.postgres.connect(platform.postgres.master)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, True, True)
        cursor.execute("SELECT pg_has_role(current_user, 'rds_superuser', 'MEMBER')")
        assert cursor.fetchone() == (True,)
    connection.close()


def test_connections_are_tls_with_a_verified_certificate(platform):
    connection = platform.postgres.connect(platform.postgres.master)
    with connection.cursor() as cursor:
        cursor.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cursor.fetchone() == (True,)
    connection.close()


def test_a_connection_without_tls_is_refused(platform):
    master = platform.postgres.master
    with pytest.raises(psycopg2.OperationalError, match="no encryption"):
        psycopg2.connect(
            host="127.0.0.1", port=platform.postgres.port, dbname="postgres",
            user=master.user, password=master.password, sslmode="disable",
        )


def test_a_wrong_password_is_refused(platform):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        platform.postgres.connect(Login(platform.postgres.master.user, "not-the-password"))


def test_passwords_are_stored_as_scram_verifiers(platform):
    (row,) = platform.postgres.query("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (platform.postgres.master.user,))
    assert row[0].startswith("SCRAM-SHA-256$")
