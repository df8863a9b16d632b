"""The clinic policy and formulary kept in the records database (admin only).

An admin installs a new version of the clinic policy or formulary (TOML, as
``ketascreen/knowledge/data/policy.toml`` and the shipped formulary). It is validated against the
rule set before it is stored; versions are never changed or deleted, the newest one is current.
:func:`clinic_files` reads the installed files for
:func:`ketascreen.screening.rule_set_in_force`, so every workstation on one PostgreSQL server
screens with the same policy.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from ketascreen.records.models import ClinicFile, User
from ketascreen.records.users import Actor, Permission
from ketascreen.screening import ClinicFiles, clinic_rule_set, rule_set_in_force

if TYPE_CHECKING:
    from ketascreen.records.core import StoreCore
    from ketascreen.rules.engine import RuleSet

ClinicFileKind = Literal["policy", "formulary"]
_PERMISSION: dict[str, Permission] = {"policy": Permission.EDIT_POLICY,
                                      "formulary": Permission.EDIT_FORMULARY}


@dataclass(frozen=True)
class ClinicFileInfo:
    """An installed clinic file.

    Attributes:
        kind: ``policy`` or ``formulary``.
        version: the ``version`` the file declares.
        sha256: of its bytes.
        installed_at: when (UTC).
        installed_by: the admin's user name.
        content: the TOML bytes.
    """

    kind: str
    version: str
    sha256: str
    installed_at: datetime
    installed_by: str
    content: bytes


def install_clinic_file(store: StoreCore, actor: Actor, kind: ClinicFileKind,
                        content: bytes) -> ClinicFileInfo:
    """Validate and install a new clinic policy or formulary; a ``<kind>-install`` event.

    Raises:
        PermissionDeniedError: ``actor`` may not edit it (only an admin may; recorded).
        KnowledgeBaseError: the file is not a valid policy or formulary for the rule set.
    """
    store.authorise(actor, _PERMISSION[kind])
    other = installed(store, "formulary" if kind == "policy" else "policy")
    other_content = other.content if other is not None else None
    ruleset = clinic_rule_set(ClinicFiles(content, other_content) if kind == "policy"
                              else ClinicFiles(other_content, content))
    version = ruleset.policy.version if kind == "policy" else ruleset.formulary.version
    sha256 = hashlib.sha256(content).hexdigest()
    now = store.clock()
    with store.transaction() as tx:
        tx.session.add(ClinicFile(kind=kind, version=version, sha256=sha256, content=content,
                                  installed_at=now, installed_by=actor.user_id))
        tx.trail.append(username=actor.username, role=actor.role.value,
                        action=f"{kind}-install", detail={"version": version, "sha256": sha256})
    return ClinicFileInfo(kind, version, sha256, now, actor.username, content)


def installed(store: StoreCore, kind: ClinicFileKind | str) -> ClinicFileInfo | None:
    """The current (newest) installed clinic file of ``kind``, or ``None``."""
    with store.database.read() as session:
        found = session.execute(
            select(ClinicFile, User.username).join(User, User.id == ClinicFile.installed_by)
            .where(ClinicFile.kind == kind).order_by(ClinicFile.id.desc()).limit(1)
        ).one_or_none()
    if found is None:
        return None
    row, username = found
    return ClinicFileInfo(row.kind, row.version, row.sha256, row.installed_at, username,
                          bytes(row.content))


def clinic_files(store: StoreCore) -> ClinicFiles:
    """The installed clinic policy and formulary, for
    :func:`ketascreen.screening.rule_set_in_force` (each ``None`` when none is installed)."""
    policy, formulary = installed(store, "policy"), installed(store, "formulary")
    return ClinicFiles(policy.content if policy else None,
                       formulary.content if formulary else None)


def rules_in_force(store: StoreCore) -> RuleSet:
    """The rule set this records database screens with: its installed clinic files, else the
    environment's, else the shipped ones (:func:`ketascreen.screening.rule_set_in_force`).

    Raises:
        KnowledgeBaseError: an installed file no longer validates, or a clinic file is both
            installed and named by the environment.
    """
    return rule_set_in_force(clinic_files(store))
