"""Helpers shared by the records tests and their writer subprocess (no pytest import)."""

from __future__ import annotations

from typing import Any

from ketascreen.api import parse_case
from ketascreen.records.repository import RecordStore
from ketascreen.records.users import Actor
from ketascreen.records.views import CertificateInfo
from ketascreen.reports.output import SigningRequest, produce_checklist
from ketascreen.screening import Screening, run
from tests.helpers.cases import clean_case, example_case, patched

PASSWORDS = {"admin": "admin-password-1", "drsmith": "physician-password-1",
             "rnpatel": "nurse-password-1", "rnlee": "nurse-password-2"}
KEY_PASSPHRASE = b"correct horse battery staple"


ACKNOWLEDGED = {"acknowledgements": [
    {"concept": "benzodiazepine", "reason": "Evening alprazolam held the night before."}]}
"""Makes the example case CLEAR: only a clear screening may be signed."""


def screening_of(changes: dict[str, Any] | None = None, *, base: str = "example") -> Screening:
    """A case with ``changes``, screened with the shipped rule set.

    ``base`` is ``example`` (the spec's example with its benzodiazepine acknowledged: CLEAR, so
    it can be signed), ``example-unacknowledged`` (NEEDS REVIEW) or ``clean``.
    """
    start = {"example": lambda: patched(example_case(), ACKNOWLEDGED),
             "example-unacknowledged": example_case, "clean": clean_case}[base]()
    return run(parse_case(patched(start, changes or {})))


_SIGNED: dict[str, bytes] = {}


def signed_pdf(screening: Screening, signing: SigningRequest) -> bytes:
    """The signed checklist of ``screening`` (cached by content and key: signing takes ~0.1 s)."""
    key = (screening.result.model_dump_json() + screening.case.model_dump_json()
           + str(signing.path))
    if key not in _SIGNED:
        _SIGNED[key], _ = produce_checklist(screening, signing=signing)
    return _SIGNED[key]


def register(store: RecordStore, actor: Actor, signing: SigningRequest) -> CertificateInfo:
    """Register the certificate of ``signing``'s key store to ``actor`` (a physician)."""
    return store.register_certificate_file(actor, signing.pkcs12, passphrase=signing.passphrase,
                                           path=signing.path)
