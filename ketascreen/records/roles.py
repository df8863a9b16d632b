"""Roles, and what each role may do.

- **physician**: screen, acknowledge findings, sign and amend; view, print and export records;
  start courses of infusions and screen (and sign) each infusion; view courses.
- **nurse**: view signed checklists, print and export them, perform the blinded bedside double
  check and countersign the checked checklist (:mod:`ketascreen.records.bedside`); view courses
  and record the monitoring, rescue drugs and discharge after an infusion (never sign a
  physician's checklist).
- **admin**: manage user accounts, the clinic policy and the formulary; no patient records.

The store checks a permission before every action and records a refusal in the audit trail
(:meth:`ketascreen.records.core.StoreCore.authorise`); accounts and logins are in
:mod:`ketascreen.records.users`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """A user's role."""

    PHYSICIAN = "physician"
    NURSE = "nurse"
    ADMIN = "admin"


class Permission(StrEnum):
    """One thing a role may do (the audit trail names refusals by these values)."""

    SCREEN = "screen"
    ACKNOWLEDGE = "acknowledge"
    SIGN = "sign"
    AMEND = "amend"
    VIEW_RECORDS = "view-records"
    VIEW_SIGNED = "view-signed"
    PRINT = "print"
    EXPORT = "export"
    DOUBLE_CHECK = "double-check"
    MANAGE_USERS = "manage-users"
    EDIT_POLICY = "edit-policy"
    EDIT_FORMULARY = "edit-formulary"
    VIEW_COURSES = "view-courses"
    RECORD_MONITORING = "record-monitoring"
    COUNTERSIGN = "countersign"


ROLE_PERMISSIONS: Final[Mapping[Role, frozenset[Permission]]] = {
    Role.PHYSICIAN: frozenset({
        Permission.SCREEN, Permission.ACKNOWLEDGE, Permission.SIGN, Permission.AMEND,
        Permission.VIEW_RECORDS, Permission.VIEW_SIGNED, Permission.PRINT, Permission.EXPORT,
        Permission.VIEW_COURSES}),
    Role.NURSE: frozenset({
        Permission.VIEW_SIGNED, Permission.PRINT, Permission.EXPORT, Permission.DOUBLE_CHECK,
        Permission.VIEW_COURSES, Permission.RECORD_MONITORING, Permission.COUNTERSIGN}),
    Role.ADMIN: frozenset({
        Permission.MANAGE_USERS, Permission.EDIT_POLICY, Permission.EDIT_FORMULARY}),
}


@dataclass(frozen=True)
class Actor:
    """A logged-in user: who acts, in which role.

    Obtain one from :meth:`RecordStore.authenticate`; every store action takes it.

    Attributes:
        user_id: the account's database id.
        username: the login name.
        display_name: the name shown and printed.
        role: the role.
    """

    user_id: int
    username: str
    display_name: str
    role: Role

    def may(self, permission: Permission) -> bool:
        """Whether the role allows ``permission`` (for greying out UI actions)."""
        return permission in ROLE_PERMISSIONS[self.role]


@dataclass(frozen=True)
class UserInfo:
    """An account as listed (never the password hash)."""

    username: str
    display_name: str
    role: Role
    active: bool
    created_at: datetime
