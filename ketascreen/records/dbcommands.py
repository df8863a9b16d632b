"""``ketascreen db``: set up and migrate the records database as the owner of its tables.

On PostgreSQL the app connects as an *application* role that may not change the schema (see
:mod:`ketascreen.records.db` and ``ketascreen/records/sql/roles.sql``). The owner of the tables
runs::

    ketascreen db init --owner-url postgresql://ketascreen_owner@dbhost/ketascreen \\
        --app-role ketascreen_app       # create the schema, grant the application role
    ketascreen db upgrade --owner-url postgresql://ketascreen_owner@dbhost/ketascreen
                                        # after installing a newer ketascreen
    ketascreen db status                # as anyone: the revision, and who may migrate

On SQLite ``db init`` and ``db upgrade`` just migrate the file (there are no roles).
"""

from __future__ import annotations

import argparse
import os
from typing import TextIO

from ketascreen.errors import StorageError

UPDATABLE = "users, patients, screenings (drafts), user_settings, audit_head, login_throttle"


def add_db_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``db init``, ``db upgrade`` and ``db status``."""
    db = commands.add_parser("db", help="the records database: set up roles, migrate (owner)")
    actions = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    init = actions.add_parser(
        "init", help="create or migrate the schema as the owner of the records tables and grant "
        "the application role its rights (PostgreSQL)")
    upgrade = actions.add_parser(
        "upgrade", help="migrate the schema as the owner and re-apply the application roles' "
        "rights")
    for parser in (init, upgrade):
        parser.add_argument("--owner-url", metavar="URL",
                            help="the database as the owner of the records tables (default: "
                            "$KETASCREEN_DATABASE_URL)")
    init.add_argument("--app-role", metavar="NAME",
                      help="the PostgreSQL role the app connects as (required on PostgreSQL; "
                      "it must exist and own nothing)")
    actions.add_parser("status", help="the schema revision and whether this role may migrate")


def run_db(args: argparse.Namespace, out: TextIO) -> int:
    """Run a ``db`` sub-command; returns the exit status (0).

    Raises:
        StorageError: the database cannot be opened, migrated or granted as asked.
    """
    from ketascreen.records.db import SCHEMA_REVISION, Database  # noqa: PLC0415

    url = getattr(args, "owner_url", None) or os.environ.get("KETASCREEN_DATABASE_URL") or None
    database = Database(url, migrate=False)
    try:
        before = database.revision()
        if args.db_command == "status":
            may = "may" if database.may_change_schema() else "may NOT"
            print(f"records database {database.name}: schema revision {before or '(none)'}, "
                  f"this ketascreen needs {SCHEMA_REVISION}; the role connected {may} change "
                  "the schema", file=out)
            return 0
        roles: tuple[str, ...] = ()
        if args.db_command == "init":
            if not args.app_role and not database.is_sqlite:
                raise StorageError(database.name, "name the role the app connects as with "
                                   "--app-role (it must exist and own nothing)")
            roles = (args.app_role,) if args.app_role else ()
        granted = database.migrate(app_roles=roles)
        after = database.revision()
        change = "already current" if before == after else f"migrated from {before or '(empty)'}"
        print(f"records database {database.name}: schema revision {after} ({change})", file=out)
        for role in granted:
            print(f"application role {role}: SELECT on every table; INSERT on every table but "
                  f"alembic_version; UPDATE only on {UPDATABLE}; no DELETE, TRUNCATE, DDL or "
                  "trigger changes", file=out)
        if not database.is_sqlite and not granted:
            print("no application role holds rights on this schema yet: run `ketascreen db "
                  "init --app-role NAME`", file=out)
        return 0
    finally:
        database.dispose()
