"""Signing certificates bound to physicians' and nurses' accounts, and per-account settings.

A checklist is stored as signed only if the certificate that signed it (read from the PDF
itself) is registered to the signed-in account: a physician cannot sign with a colleague's key
store, and the name the page prints (the certificate's) is the name the records show. A
certificate is registered by an admin or by the physician themself (``ketascreen users
certificate add``), or on first signing in the app after the physician confirms that it is
theirs. A certificate belongs to one account; registrations are never changed or deleted, and
each one is an audit event. A physician may register only a certificate whose name names
them (every word of the account's name, titles and credentials aside); one that names somebody
else needs an admin, who has checked who holds the key.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ketascreen.errors import (
    CertificateNameMismatchError,
    CertificateNotRegisteredError,
    CertificateOwnedByAnotherError,
    PermissionDeniedError,
    UserAccountError,
)
from ketascreen.records.models import SigningCertificate, User, UserSetting
from ketascreen.records.roles import Actor, Permission, Role
from ketascreen.records.views import CertificateInfo

if TYPE_CHECKING:
    from ketascreen.records.core import StoreCore, Tx

CertificateStatus = Literal["registered", "unregistered", "another-account"]
CERTIFICATE_PATH: Final = "certificate-path"
"""The :class:`UserSetting` name of the last signing key store used."""
_FINGERPRINT_LENGTH: Final = 64
_SIGNING_ROLES: Final = frozenset({Role.PHYSICIAN, Role.NURSE})
"""The roles whose accounts hold signing certificates: the physician signs the checklist, the
nurse countersigns it after the bedside double check."""


def normalise_fingerprint(fingerprint: str) -> str:
    """Lowercase hex without colons or spaces.

    Raises:
        ValueError: not 64 hex digits.
    """
    text = fingerprint.replace(":", "").replace(" ", "").strip().lower()
    if len(text) != _FINGERPRINT_LENGTH or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(f"{fingerprint!r} is not a sha256 fingerprint (64 hex digits)")
    return text


def _owner(session: Session, fingerprint: str) -> tuple[int, str] | None:
    found = session.execute(
        select(User.id, User.username).join(SigningCertificate,
                                            SigningCertificate.user_id == User.id)
        .where(SigningCertificate.sha256 == fingerprint)).one_or_none()
    return None if found is None else (found[0], found[1])


def _registered(session: Session, user_id: int) -> tuple[str, ...]:
    return tuple(session.execute(
        select(SigningCertificate.sha256).where(SigningCertificate.user_id == user_id)
        .order_by(SigningCertificate.id)).scalars())


_NOT_NAME_WORDS = frozenset({"dr", "doctor", "prof", "professor", "mr", "mrs", "ms", "mx",
                             "md", "do", "rn", "np", "pa", "aprn", "crna", "mbbs", "mbchb",
                             "phd", "pharmd", "frcp", "facp"})


def _name_words(name: str) -> set[str]:
    words = re.findall(r"[^\W\d_]+", unicodedata.normalize("NFKC", name).casefold())
    return {w for w in words if w not in _NOT_NAME_WORDS}


def certificate_names_holder(subject_name: str, display_name: str) -> bool:
    """Whether a certificate's name names the account holder: every word of the account's
    name (titles and credentials aside) is in it, e.g. "Jane Smith MD (Ketamine Clinic)" names
    "Dr Jane Smith"; "Dr Jane Smith" does not name "Dr Tom Jones"."""
    holder = _name_words(display_name)
    return bool(holder) and holder <= _name_words(subject_name)


def _refuse_name(store: StoreCore, actor: Actor, *, fingerprint: str, subject_name: str,
                 display_name: str, registered: tuple[str, ...], action: str,
                 record_id: str | None) -> NoReturn:
    error = CertificateNameMismatchError(fingerprint, actor.username, registered, subject_name,
                                         None, record_id, display_name)
    with store.transaction() as tx:
        tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                        outcome="refused", record_id=record_id,
                        detail={"reason": "the certificate does not name the account holder",
                                "certificate_sha256": fingerprint,
                                "subject_name": subject_name[:300]})
    raise error


def certificate_status(store: StoreCore, actor: Actor, fingerprint: str) -> CertificateStatus:
    """Whether ``fingerprint`` is registered to ``actor``, to nobody, or to another account.

    Read-only and not audited: the app asks before signing whether to offer registration.
    """
    fingerprint = normalise_fingerprint(fingerprint)
    with store.database.read() as session:
        owner = _owner(session, fingerprint)
    if owner is None:
        return "unregistered"
    return "registered" if owner[0] == actor.user_id else "another-account"


def registered_owner(store: StoreCore, fingerprint: str) -> str | None:
    """The user name a signing certificate is registered to, or ``None`` if it is not.

    Read-only, no login and not audited: ``ketascreen verify`` trusts a signer whose
    certificate the clinic registered (a fingerprint is public, not a secret).
    """
    with store.database.read() as session:
        owner = _owner(session, normalise_fingerprint(fingerprint))
    return None if owner is None else owner[1]


def check_signer(store: StoreCore, actor: Actor, fingerprint: str | None, subject_name: str,
                 *, action: str, record_id: str | None, register: bool) -> bool:
    """Check that ``actor`` may sign with this certificate; returns whether it must be
    registered to ``actor`` now (it is nobody's and ``register`` was confirmed).

    Raises:
        CertificateOwnedByAnotherError: it is registered to another account (recorded).
        CertificateNotRegisteredError: it is registered to nobody and registration was not
            confirmed, or the document carries no certificate (recorded).
    """
    with store.database.read() as session:
        owner = _owner(session, fingerprint) if fingerprint else None
        registered = _registered(session, actor.user_id)
    if owner is not None and owner[0] == actor.user_id:
        return False
    if fingerprint is not None and owner is None and register:
        if not certificate_names_holder(subject_name, actor.display_name):
            _refuse_name(store, actor, fingerprint=fingerprint, subject_name=subject_name,
                         display_name=actor.display_name, registered=registered,
                         action=action, record_id=record_id)
        return True
    error_type = CertificateOwnedByAnotherError if owner else CertificateNotRegisteredError
    error = error_type(fingerprint or "", actor.username, registered, subject_name,
                       owner[1] if owner else None, record_id)
    reason = ("the signing certificate is registered to another account" if owner else
              "the signing certificate is not registered to this account")
    with store.transaction() as tx:
        tx.trail.append(username=actor.username, role=actor.role.value, action=action,
                        outcome="refused", record_id=record_id,
                        detail={"reason": reason, "certificate_sha256": fingerprint,
                                "certificate_owner": owner[1] if owner else None})
    raise error


def add_certificate(tx: Tx, actor: Actor, *, user_id: int, username: str, fingerprint: str,
                    subject_name: str, der: bytes | None, now: datetime) -> None:
    """Insert a registration and its ``certificate-register`` event (inside ``tx``)."""
    tx.session.add(SigningCertificate(user_id=user_id, sha256=fingerprint,
                                      subject_name=subject_name[:300], certificate=der,
                                      registered_at=now, registered_by=actor.user_id))
    tx.session.flush()
    tx.trail.append(username=actor.username, role=actor.role.value,
                    action="certificate-register",
                    detail={"user": username, "certificate_sha256": fingerprint,
                            "subject_name": subject_name[:300]})


def register_certificate(store: StoreCore, actor: Actor, fingerprint: str, subject_name: str,
                         *, confirmed: bool, username: str | None = None,
                         certificate_der: bytes | None = None) -> CertificateInfo:
    """Register a signing certificate to a physician's or a nurse's account (a nurse's
    countersigns checklists after the bedside double check).

    Args:
        store: the records store.
        actor: the physician or nurse themself, or an admin.
        fingerprint: sha256 of the certificate's DER bytes (hex; colons allowed).
        subject_name: the certificate's common name.
        confirmed: the person confirmed that the certificate is the physician's (must be true).
        username: the account (default: ``actor``'s own).
        certificate_der: the certificate itself, kept with the registration.

    Returns:
        The registration (the existing one when it is registered to that account already).

    Raises:
        ValueError: not confirmed, or the fingerprint is not 64 hex digits.
        PermissionDeniedError: a physician or nurse registering for another account
            (recorded).
        UserAccountError: the account is not an active physician or nurse.
        CertificateOwnedByAnotherError: the certificate is registered to another account
            (recorded).
    """
    if not confirmed:
        raise ValueError("a certificate is registered only after the physician confirms it is "
                         "theirs")
    fingerprint = normalise_fingerprint(fingerprint)
    target = username or actor.username
    if actor.role is not Role.ADMIN:
        if actor.role not in _SIGNING_ROLES or target != actor.username:
            store.record_refusal(actor, "certificate-register", reason=(
                f"the {actor.role.value} role may not register a certificate for {target}"))
            raise PermissionDeniedError(actor.username, actor.role.value,
                                        f"register a signing certificate for {target}")
    else:
        store.authorise(actor, Permission.MANAGE_USERS)
    now = store.clock()
    with store.transaction() as tx:
        user = tx.session.execute(select(User).where(User.username == target)
                                  ).scalar_one_or_none()
        if user is None or not user.active or user.role not in _SIGNING_ROLES:
            raise UserAccountError(target, "certificate", "only an active physician's or "
                                   "nurse's account holds signing certificates")
        owner = _owner(tx.session, fingerprint)
        misnamed = (actor.role is not Role.ADMIN and owner is None
                    and not certificate_names_holder(subject_name, user.display_name))
        if misnamed:
            refused = None
        elif owner is None:
            add_certificate(tx, actor, user_id=user.id, username=user.username,
                            fingerprint=fingerprint, subject_name=subject_name,
                            der=certificate_der, now=now)
            refused = None
        elif owner[0] != user.id:
            refused = CertificateOwnedByAnotherError(
                fingerprint, target, _registered(tx.session, user.id), subject_name, owner[1])
        else:
            refused = None
    if misnamed:
        _refuse_name(store, actor, fingerprint=fingerprint, subject_name=subject_name,
                     display_name=actor.display_name, registered=(),
                     action="certificate-register", record_id=None)
    if refused is not None:
        store.record_refusal(actor, "certificate-register", reason=(
            f"the certificate is registered to another account ({refused.owner})"))
        raise refused
    return next(c for c in certificates(store, actor, username=target)
                if c.fingerprint == fingerprint)


def register_certificate_file(store: StoreCore, actor: Actor, data: bytes, *,
                              passphrase: bytes | None = None, username: str | None = None,
                              path: str | None = None) -> CertificateInfo:
    """Register the certificate of a PEM/DER certificate file or PKCS#12 key store (the
    person naming the file confirms it is the physician's).

    Raises:
        SigningError: the file is not a certificate or key store that opens.
        PermissionDeniedError, UserAccountError, CertificateOwnedByAnotherError: see
            :func:`register_certificate`.
    """
    from ketascreen.reports.keys import read_certificate  # noqa: PLC0415

    facts = read_certificate(data, passphrase=passphrase, path=path)
    return register_certificate(store, actor, facts.sha256, facts.subject_name, confirmed=True,
                                username=username, certificate_der=facts.der)


def certificates(store: StoreCore, actor: Actor, *, username: str | None = None
                 ) -> list[CertificateInfo]:
    """The certificates registered to an account (``actor``'s own; an admin may name any).

    Raises:
        PermissionDeniedError: a non-admin asking for another account (recorded).
    """
    target = username or actor.username
    if target != actor.username:
        store.authorise(actor, Permission.MANAGE_USERS)
    owner, registrar = aliased(User), aliased(User)
    with store.database.read() as session:
        rows = session.execute(
            select(SigningCertificate.sha256, SigningCertificate.subject_name, owner.username,
                   SigningCertificate.registered_at, registrar.username)
            .join(owner, owner.id == SigningCertificate.user_id)
            .join(registrar, registrar.id == SigningCertificate.registered_by)
            .where(owner.username == target).order_by(SigningCertificate.id)).all()
    return [CertificateInfo(*row) for row in rows]


def last_certificate_path(store: StoreCore, actor: Actor) -> str | None:
    """The signing key store ``actor`` used last (as remembered), or ``None``."""
    with store.database.read() as session:
        setting = session.get(UserSetting, (actor.user_id, CERTIFICATE_PATH))
        return None if setting is None else setting.value


def remember_certificate_path(store: StoreCore, actor: Actor, path: str | Path) -> None:
    """Remember the signing key store ``actor`` used (per account); a ``key-path`` event
    records the setting row's hash (the path itself is not in the event)."""
    text = str(Path(path).expanduser().resolve())
    now = store.clock()
    with store.transaction() as tx:
        setting = tx.session.get(UserSetting, (actor.user_id, CERTIFICATE_PATH))
        if setting is None:
            tx.session.add(UserSetting(user_id=actor.user_id, name=CERTIFICATE_PATH, value=text,
                                       updated_at=now))
        else:
            setting.value, setting.updated_at = text, now
        tx.trail.append(username=actor.username, role=actor.role.value, action="key-path",
                        detail={"setting": CERTIFICATE_PATH})
