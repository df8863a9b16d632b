"""Typed errors with structured fields.

Every error the core raises for bad input or bad configuration is one of these. Each carries the
offending field, what was expected and what was given, so a caller (the CLI, the desktop app) can
format it without parsing message strings.

An error class is a dataclass for its typed fields and generated ``__init__`` only
(``eq=False, repr=False``): errors compare by identity, hash and show (``repr``) as any exception
does, with their message; nothing compares errors by their fields, and generating those methods
for every class was a third of this module's import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from ketascreen.escape import neutralise


class KetascreenError(Exception):
    """Base class of every error ketascreen raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field of an input document.

    Attributes:
        field: dotted path of the field, e.g. ``measurements.weight`` or ``medications[1].code``.
        message: what is wrong, for a clinician (no Python jargon).
        value: the offending value as given, or ``None`` when the field is missing.
        suggestion: what to write instead, where there is an obvious fix (``mL`` for ``cc``).
    """

    field: str
    message: str
    value: object = None
    suggestion: str | None = None

    def describe(self) -> str:
        """One line naming the field, the value and the problem."""
        shown = "" if self.value is None else f" {_show(self.value)}"
        text = f"{self.field}:{shown} {self.message}"
        if self.suggestion:
            text += f" (write {self.suggestion!r} instead)"
        return text


@dataclass(frozen=True)
class ImportWarning:  # the name the importer's API promises (shadows a builtin Warning)
    """A data-quality problem found while importing, printed with the import.

    Attributes:
        code: a stable, machine-readable id such as ``stale-weight`` or ``missing-gender``.
        message: what was found and what to do, for a clinician.
        resource: the resource concerned (``"Condition/abc"``), or ``None`` for the whole record.
    """

    code: str
    message: str
    resource: str | None = None

    def describe(self) -> str:
        """One line: code, message and resource."""
        where = f" [{self.resource}]" if self.resource else ""
        return f"{self.code}: {self.message}{where}"


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{neutralise(value)}"'  # a control character in a value must not reach a terminal
    return repr(value)


class UnitInputError(KetascreenError, ValueError):
    """A quantity string could not be accepted: no unit, wrong dimension, unsafe notation.

    Attributes:
        field: dotted path of the field the string came from (may be empty for a bare parse).
        got: the string as given.
        expected: the dimension or form that was expected, e.g. ``mass`` or ``systolic/diastolic``.
        reason: why it was refused.
        suggestion: a safer spelling where one exists.
    """

    def __init__(
        self,
        *,
        field: str,
        got: str,
        expected: str,
        reason: str,
        suggestion: str | None = None,
    ) -> None:
        self.field = field
        self.got = got
        self.expected = expected
        self.reason = reason
        self.suggestion = suggestion
        super().__init__(self.problem().describe())

    def problem(self) -> FieldProblem:
        """The error as a :class:`FieldProblem`."""
        return FieldProblem(
            field=self.field or "(quantity)",
            message=self.reason,
            value=self.got,
            suggestion=self.suggestion,
        )

    def at(self, field: str) -> UnitInputError:
        """The same error, attributed to ``field``."""
        return UnitInputError(
            field=field,
            got=self.got,
            expected=self.expected,
            reason=self.reason,
            suggestion=self.suggestion,
        )


@dataclass(eq=False, repr=False)
class CaseValidationError(KetascreenError, ValueError):
    """A case document is invalid. Lists every problem found, each naming its field.

    Attributes:
        problems: the problems, in document order.
        source: the file the case came from, if any.
    """

    problems: list[FieldProblem] = field(default_factory=list)
    source: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        if not self.problems:
            return f"{where}invalid case"
        lines = [p.describe() for p in self.problems]
        if len(lines) == 1:
            return f"{where}invalid case: {lines[0]}"
        return f"{where}invalid case ({len(lines)} problems):\n  " + "\n  ".join(lines)


@dataclass(eq=False, repr=False)
class KnowledgeBaseError(KetascreenError):
    """A shipped or clinic-edited data file (rules, policy, drugs, conditions) is invalid.

    Raised when the file is loaded, never in the middle of a screening.

    Attributes:
        file: the data file's name.
        entry: the rule id, drug name or key the problem is in.
        problem: what is wrong.
    """

    file: str
    entry: str
    problem: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.problem}"


@dataclass(eq=False, repr=False)
class ClinicFileConflictError(KnowledgeBaseError):
    """A clinic policy or formulary is given twice: installed in the records database and named
    by an environment variable. Neither is chosen silently.

    Attributes:
        kind: ``policy`` or ``formulary``.
        variable: the environment variable naming the other file (``file`` is its path).
    """

    kind: str = ""
    variable: str = ""


@dataclass(eq=False, repr=False)
class FhirImportError(KetascreenError, ValueError):
    """A FHIR source cannot be turned into a screening case.

    Raised for malformed input (not JSON, not FHIR, no Patient, two Patients, an unsupported
    Bundle type) and for records that must not be screened (a deceased patient, see
    :class:`DeceasedPatientError`). Never raised for a single odd resource inside an otherwise
    usable record: those become import warnings.

    Attributes:
        source: the file or folder the import was asked to read.
        reason: what is wrong, for a clinician.
        resource: the resource concerned (``"Patient/abc"``), or ``None``.
        field: the element concerned (``"birthDate"``), or ``None``.
        warnings: data-quality warnings found before the import stopped, so a refusal can
            still show them.
    """

    source: str
    reason: str
    resource: str | None = None
    field: str | None = None
    warnings: tuple[ImportWarning, ...] = ()

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.resource or ""
        if self.field:
            where = f"{where}.{self.field}" if where else self.field
        where = f" ({where})" if where else ""
        return f"{self.source}: cannot import{where}: {self.reason}"


@dataclass(eq=False, repr=False)
class FhirValueError(FhirImportError):
    """A FHIR file holds JSON that is read two ways or a value that is not what it claims: a
    repeated key (``{"value": 70, "value": 700}``), a quantity value that is text, a boolean,
    null, ``NaN``/``Infinity`` or too large for a number. The whole import stops, a file of a
    folder included (a skipped file could hold the value that mattered); ``resource`` and
    ``field`` name the place (``Observation/abc`` and ``valueQuantity.value``).
    """


@dataclass(eq=False, repr=False)
class DeceasedPatientError(FhirImportError):
    """The record says the patient has died; a screening case is not produced.

    Attributes:
        deceased_on: the date of death as recorded (ISO text), or ``None`` when only the fact of
            death is recorded.
    """

    deceased_on: str | None = None


@dataclass(eq=False, repr=False)
class CalculationMismatchError(KetascreenError):
    """The independent inverse check of a dose disagrees with the forward calculation.

    Raised by :mod:`ketascreen.dosing.inverse`; the dose calculation turns it into a
    ``calculation-mismatch`` refusal, so no dose is shown.

    Attributes:
        check: what was recomputed, e.g. ``dose per body weight from the programmed pump rate``.
        expected: the value the forward path intended or claimed.
        found: the value the inverse check recomputed independently.
        unit: the unit of both values, e.g. ``mg/kg``.
        difference_percent: the relative difference of ``found`` from ``expected``.
        tolerance_percent: the largest difference allowed (1 % plus what rounding explains).
    """

    check: str
    expected: Decimal
    found: Decimal
    unit: str
    difference_percent: Decimal
    tolerance_percent: Decimal

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return (f"{self.check}: {_plain(self.found)} {self.unit} recomputed independently, "
                f"{_plain(self.expected)} {self.unit} expected (difference "
                f"{_plain(self.difference_percent)} %, allowed {_plain(self.tolerance_percent)} %)")


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros (errors.py cannot import the display module)."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


class InputFileError(KetascreenError):
    """A file named on the command line cannot be used (missing, unreadable, empty).

    Attributes:
        path: the file.
        reason: what is wrong with it.
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(eq=False, repr=False)
class StorageError(KetascreenError):
    """The records database cannot be opened or used.

    Attributes:
        database: the database, with any password hidden (a file path or a URL).
        reason: what went wrong, for the person running ketascreen.
    """

    database: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"records database {self.database}: {self.reason}"


@dataclass(eq=False, repr=False)
class RecordError(KetascreenError):
    """A stored screening cannot be found, created or changed as asked.

    Attributes:
        record_id: the record concerned (``KS-...``), or ``None`` when there is none yet.
        reason: what is wrong, for a clinician.
    """

    record_id: str | None
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"record {self.record_id}: {self.reason}" if self.record_id else self.reason


@dataclass(eq=False, repr=False)
class RecordNotFoundError(RecordError):
    """No stored screening has this record id (or the user may not see it)."""


@dataclass(eq=False, repr=False)
class SignedRecordImmutableError(RecordError):
    """A signed screening was to be changed; a change to a signed record is an amendment."""


@dataclass(eq=False, repr=False)
class RecordExistsError(RecordError):
    """A screening with exactly this content is already stored.

    Attributes:
        status: the stored record's status (``draft``, ``signed`` or ``amended``).
    """

    status: str = "draft"


@dataclass(eq=False, repr=False)
class SameDaySigningError(RecordError):
    """A second checklist for a patient would be signed on the same local day without amending
    the first. The refusal is recorded in the audit trail.

    Attributes:
        record_id: the record signed already that day (the one to amend).
        reason: the whole refusal, with the way to amend.
        patient_id: the patient's id.
        signer_name: who signed the existing record (its certificate's name).
        signed_at: when it was signed (UTC).
        how_to_amend: what to do instead.
    """

    patient_id: str = ""
    signer_name: str = ""
    signed_at: datetime | None = None
    how_to_amend: str = ""


@dataclass(eq=False, repr=False)
class AmendmentReasonMissingError(RecordError):
    """An amendment was asked for without a typed reason (the ``record_id`` is the amended one)."""


@dataclass(eq=False, repr=False)
class CertificateNotRegisteredError(KetascreenError):
    """A checklist was signed with a certificate that is not registered to the signed-in account.

    The refusal is recorded in the audit trail before this is raised.

    Attributes:
        fingerprint: sha256 (hex) of the signing certificate (DER).
        account: the user name signed in.
        registered: the fingerprints registered to that account.
        subject_name: the certificate's common name.
        owner: the other account the certificate is registered to, or ``None`` if it is
            registered to no account (then the signer may register it as theirs).
        record_id: the record concerned, if any.
    """

    fingerprint: str
    account: str
    registered: tuple[str, ...]
    subject_name: str = ""
    owner: str | None = None
    record_id: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    @property
    def registrable(self) -> bool:
        """Whether the account may register the certificate as its own (it is nobody's)."""
        return self.owner is None

    def __str__(self) -> str:
        what = f" for record {self.record_id}" if self.record_id else ""
        if self.owner is not None:
            why = f"it is registered to another account ({self.owner})"
        elif self.registered:
            why = (f"it is not registered to {self.account} (registered: "
                   f"{', '.join(f[:16] + '...' for f in self.registered)})")
        else:
            why = (f"{self.account} has no registered signing certificate; register it with "
                   f"`ketascreen users certificate add {self.account} CERT`")
        return (f"refused: the certificate {self.subject_name!r} (sha256 {self.fingerprint[:16]}"
                f"...) may not sign{what}: {why}; the refusal is recorded in the audit trail")


@dataclass(eq=False, repr=False)
class CertificateOwnedByAnotherError(CertificateNotRegisteredError):
    """The signing certificate is registered to another account (``owner``); never registrable."""


@dataclass(eq=False, repr=False)
class CertificateNameMismatchError(CertificateNotRegisteredError):
    """A physician tried to register, as their own, a certificate that names somebody else.

    Only an admin, who has checked who holds the key, may register such a certificate: the page
    prints the certificate's name, so a certificate named "Dr Jane Smith" registered to Dr Jones
    would let him sign as her. Recorded in the audit trail before it is raised.

    Attributes:
        display_name: the account's name, which the certificate's name must contain.
    """

    display_name: str = ""

    @property
    def registrable(self) -> bool:
        """Never by the physician themself (an admin may register it)."""
        return False

    def __str__(self) -> str:
        return (f"refused: the certificate {self.subject_name!r} (sha256 {self.fingerprint[:16]}"
                f"...) does not name {self.account}'s account holder ({self.display_name!r}), "
                f"so it cannot be registered to {self.account} by {self.account}; an admin who "
                f"has checked who holds the key may register it: `ketascreen users certificate "
                f"add {self.account} CERT --user ADMIN`; the refusal is recorded in the audit "
                "trail")


@dataclass(eq=False, repr=False)
class PermissionDeniedError(KetascreenError):
    """The user's role does not allow the action. The refusal is recorded in the audit trail.

    Attributes:
        user: the user name.
        role: the user's role (``physician``, ``nurse`` or ``admin``).
        action: the permission that was missing, e.g. ``sign`` or ``edit-policy``.
        record_id: the record concerned, if any.
    """

    user: str
    role: str
    action: str
    record_id: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        what = f" record {self.record_id}" if self.record_id else ""
        return (f"refused: {self.user} ({self.role}) may not {self.action}{what}; "
                "the refusal is recorded in the audit trail")


@dataclass(eq=False, repr=False)
class AuthenticationFailedError(KetascreenError):
    """A login was refused: unknown user, wrong password or a deactivated account.

    The reason shown to the person logging in does not say which, on purpose.

    Attributes:
        user: the user name given.
        reason: what to do next.
    """

    user: str
    reason: str = "unknown user or wrong password"

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"login refused for {self.user!r}: {self.reason}"


@dataclass(eq=False, repr=False)
class LoginThrottledError(AuthenticationFailedError):
    """A login was refused without checking the password: too many failed logins for the
    account in a row, and its wait is not over. The refusal is recorded in the audit trail.

    Attributes:
        user: the user name given.
        retry_at: when a login for this account is checked again (aware, UTC).
        wait_seconds: whole seconds until then, rounded up (at least 1).
        failures: the failed logins in a row so far.
    """

    retry_at: datetime | None = None
    wait_seconds: int = 1
    failures: int = 0

    def __post_init__(self) -> None:
        self.reason = (f"too many failed logins in a row ({self.failures}): try again in "
                       f"{self.wait_seconds} s")
        super().__post_init__()


@dataclass(eq=False, repr=False)
class UserAccountError(KetascreenError):
    """A user account cannot be created or changed as asked.

    Attributes:
        user: the user name concerned.
        field: what is wrong (``username``, ``password``, ``role`` ...).
        reason: why.
    """

    user: str
    field: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"user {self.user!r}: {self.field}: {self.reason}"


@dataclass(eq=False, repr=False)
class AuditChainBrokenError(KetascreenError):
    """The audit trail does not verify: an event was edited, inserted or deleted.

    Attributes:
        event_id: the sequence number of the first event that does not verify (for a deleted
            last event, the number the missing event had).
        reason: what was found there.
    """

    event_id: int
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"audit trail broken at event {self.event_id}: {self.reason}"


@dataclass(eq=False, repr=False)
class TextInputError(KetascreenError, ValueError):
    """Typed text (a name, a reason) is blank, has no letter, or holds an invisible character.

    Attributes:
        field: what the text is (``--reason``, ``display name``, ``patient.name``).
        got: the text as given.
        reason: why it is refused (the character named by code point and Unicode name).
    """

    field: str
    got: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.got)} {self.reason}"


@dataclass(eq=False, repr=False)
class DoubleCheckEntryError(KetascreenError, ValueError):
    """What the checking nurse typed at the bedside cannot be read: each field named.

    Attributes:
        problems: one per bad field (``vial_concentration``, ``pump_rate``, ``identifiers[1]``
            ...): empty, not a number, negative, a unit of the wrong dimension, two
            identifiers of one kind.
    """

    problems: tuple[FieldProblem, ...]

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        lines = [p.describe() for p in self.problems]
        if len(lines) == 1:
            return f"double check: {lines[0]}"
        return f"double check ({len(lines)} problems):\n  " + "\n  ".join(lines)


@dataclass(eq=False, repr=False)
class OrderNotRederivableError(KetascreenError):
    """The order of a signed checklist cannot be re-derived as it was signed (its result has
    no dose, or the rules in force now give another dose, VTBI, concentration or rate: the
    formulary changed since signing), so it is not double-checked against a guess.

    Attributes:
        record_id: the signed record.
        reason: what differs, for a clinician.
    """

    record_id: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"record {self.record_id}: the signed order cannot be re-derived: {self.reason}"


@dataclass(eq=False, repr=False)
class DoubleCheckRefusedError(KetascreenError):
    """A bedside double check was refused before anything was compared (recorded in the audit
    trail first): the checker or the witness signed the order, the witness is the checker or
    not an active clinician, or an override is not allowed as given.

    Attributes:
        record_id: the signed record.
        field: who or what is refused: ``checker``, ``witness`` or ``override``.
        reason: why, for a clinician.
    """

    record_id: str
    field: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return (f"record {self.record_id}: double check refused: {self.field}: {self.reason}; "
                "the refusal is recorded in the audit trail")


@dataclass(eq=False, repr=False)
class CountersignRefusedError(KetascreenError):
    """A nurse's countersigned checklist was not stored (recorded in the audit trail first).

    Attributes:
        record_id: the signed record.
        reason: why, for a clinician.
    """

    record_id: str
    reason: str

    def __post_init__(self) -> None:
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return (f"record {self.record_id}: countersignature refused: {self.reason}; the refusal "
                "is recorded in the audit trail")
