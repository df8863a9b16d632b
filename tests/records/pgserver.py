"""A throwaway PostgreSQL server on a private unix socket, for the records tests and CI.

Standard library only, so ``.ci/run`` can start it with the system ``python3`` before the venv
exists::

    python3 tests/records/pgserver.py start      # prints KETASCREEN_TEST_POSTGRES_URL=...,
                                                 # ..._OWNER_URL, ..._APP_URL and ..._DIR
    python3 tests/records/pgserver.py stop DIR

Three roles, as a clinic would have: ``ketascreen`` (the superuser that made the server, for
setting up test schemas and for tests that tamper as a database administrator would),
``ketascreen_owner`` (owns the records tables and runs the migrations) and ``ketascreen_app``
(what the app connects as: owns nothing; ``ketascreen/records/sql/roles.sql`` grants its rights).

The server uses Debian's ``postgresql`` package (``/usr/lib/postgresql/*/bin``) or whatever
``pg_config --bindir`` names. It listens on no TCP port: only on a unix socket inside its own
temporary directory, so it never clashes with another server. ``initdb`` refuses to run as root,
so as root the server runs as the ``postgres`` user (created by the Debian package).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

USER = "ketascreen"
OWNER = "ketascreen_owner"
APP = "ketascreen_app"
DATABASE = "ketascreen"


ROLES_SQL = (
    f"CREATE ROLE {OWNER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; "
    f"CREATE ROLE {APP} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; "
    f"GRANT CREATE ON DATABASE {DATABASE} TO {OWNER}")
"""The owner and application roles (the owner may create schemas: the tests make one each)."""


class ServerUnavailableError(RuntimeError):
    """No throwaway PostgreSQL server can be started here; the message says why."""


@dataclass(frozen=True)
class Server:
    """A running throwaway server."""

    directory: Path
    bindir: Path
    run_as: tuple[str, ...]

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the ``ketascreen`` database over the unix socket (superuser)."""
        return self.url_as(USER)

    @property
    def owner_url(self) -> str:
        """The same database as the owner of the records tables."""
        return self.url_as(OWNER)

    @property
    def app_url(self) -> str:
        """The same database as the application role."""
        return self.url_as(APP)

    def url_as(self, role: str) -> str:
        """The URL of the database as ``role`` (trust authentication on the socket)."""
        return f"postgresql+psycopg://{role}@/{DATABASE}?host={self.directory}"


def find_bindir() -> Path | None:
    """The directory holding initdb and pg_ctl, newest version first."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name)
                        if Path(p).parent.parent.name.isdigit() else 0, reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                              check=False)
        bindir = Path(done.stdout.strip())
        if (bindir / "initdb").exists():
            return bindir
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _run_as() -> tuple[tuple[str, ...], int | None, int | None]:
    """The command prefix to run the server as a non-root user, with that user's ids."""
    if os.geteuid() != 0:
        return (), None, None
    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        raise ServerUnavailableError("running as root and there is no 'postgres' user to run "
                                "initdb as (apt-get install postgresql creates it)") from None
    runuser = shutil.which("runuser")
    if runuser is None:
        raise ServerUnavailableError("running as root and runuser (util-linux) is missing")
    return (runuser, "-u", "postgres", "--"), account.pw_uid, account.pw_gid


def _check(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise ServerUnavailableError(f"{what} failed (exit {done.returncode}): {' | '.join(tail)}")


def start() -> Server:
    """Create a data directory in a new temporary folder, start a server on it, and create
    the ``ketascreen`` database (user ``ketascreen``, trust authentication on the socket).

    Raises:
        ServerUnavailableError: PostgreSQL is not installed, or it cannot be started here.
    """
    bindir = find_bindir()
    if bindir is None:
        raise ServerUnavailableError("PostgreSQL is not installed (no initdb; on Debian: "
                                "apt-get install postgresql)")
    run_as, uid, gid = _run_as()
    directory = Path(tempfile.mkdtemp(prefix="ketascreen-pg-"))
    try:
        if uid is not None and gid is not None:
            os.chown(directory, uid, gid)
        data = directory / "data"
        _check([*run_as, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", USER,
                "-E", "UTF8", "--no-locale", "--no-sync"], "initdb")
        options = f"-k {directory} -c listen_addresses='' -c fsync=off"
        _check([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-l",
                str(directory / "server.log"), "-o", options, "-w", "-t", "60", "start"],
               "pg_ctl start")
        server = Server(directory, bindir, run_as)
        _check([*run_as, str(bindir / "createdb"), "-h", str(directory), "-U", USER, DATABASE],
               "createdb")
        _check([*run_as, str(bindir / "psql"), "-h", str(directory), "-U", USER, "-d", DATABASE,
                "-v", "ON_ERROR_STOP=1", "-q", "-c", ROLES_SQL], "creating the roles")
    except BaseException:
        stop_directory(directory, bindir, run_as)
        raise
    return server


def stop_directory(directory: Path, bindir: Path | None = None,
                   run_as: tuple[str, ...] | None = None) -> None:
    """Stop the server of ``directory`` (if running) and delete the directory."""
    bindir = bindir or find_bindir()
    if run_as is None:
        try:
            run_as = _run_as()[0]
        except ServerUnavailableError:
            run_as = ()
    data = directory / "data"
    if bindir is not None and (data / "postmaster.pid").exists():
        subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, check=False, timeout=60)
    shutil.rmtree(directory, ignore_errors=True)


def stop(server: Server) -> None:
    """Stop ``server`` and delete its directory."""
    stop_directory(server.directory, server.bindir, server.run_as)


def main(argv: list[str]) -> int:
    """``start`` prints shell assignments; ``stop DIR`` stops and deletes."""
    if argv[:1] == ["start"]:
        try:
            server = start()
        except ServerUnavailableError as error:
            print(f"PostgreSQL not started: {error}", file=sys.stderr)
            return 1
        print(f"KETASCREEN_TEST_POSTGRES_URL='{server.url}'")
        print(f"KETASCREEN_TEST_POSTGRES_OWNER_URL='{server.owner_url}'")
        print(f"KETASCREEN_TEST_POSTGRES_APP_URL='{server.app_url}'")
        print(f"KETASCREEN_TEST_POSTGRES_DIR='{server.directory}'")
        return 0
    if len(argv) == 2 and argv[0] == "stop":
        stop_directory(Path(argv[1]))
        return 0
    print("usage: pgserver.py start | stop DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
