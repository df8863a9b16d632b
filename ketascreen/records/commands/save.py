"""``screen --save``: the screening stored in the records as the logged-in user (a draft, a
signed record, or a signed amendment)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ketascreen.errors import InputFileError, RecordExistsError
from ketascreen.records.commands.session import login, open_store
from ketascreen.secretfile import read_secret

if TYPE_CHECKING:
    from ketascreen.screening import Screening


class Saver:
    """Stores what ``screen --save`` screened, as the logged-in user.

    Args:
        args: the parsed ``screen`` arguments.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        from ketascreen.records.users import Permission  # noqa: PLC0415

        self._args = args
        self.store = open_store()
        try:
            self.actor = login(self.store, args)
            # refuse before anything is screened or written (each refusal is audited)
            self.store.authorise(self.actor, Permission.AMEND if args.amends
                                 else Permission.SCREEN)
            if args.sign:
                self.store.authorise(self.actor, Permission.SIGN)
        except BaseException:
            self.store.close()
            raise

    def check(self, screening: Screening) -> None:
        """Stop before a checklist is written when the record cannot be stored.

        Raises:
            RecordExistsError: the same screening is stored and signed already (or stored as a
                draft and not being signed now).
            CertificateNotRegisteredError: the key's certificate is not registered to the
                user (recorded in the audit trail).
            SameDaySigningError: the patient has a checklist signed today and this is not an
                amendment (recorded).
        """
        from ketascreen.records.content import record_id_of  # noqa: PLC0415

        record_id = record_id_of(screening, screening.rules)
        record = self.store.find(self.actor, record_id)
        if record is not None and (record.is_signed or not self._args.sign or self._args.amends):
            raise RecordExistsError(record.record_id, "this screening is stored already "
                                    f"({record.status})", record.status)
        if self._args.sign:
            self._check_key(record_id)
            if not self._args.amends:
                self.store.refuse_same_day_signing(self.actor, screening.case.patient.id,
                                                   record_id)

    def _check_key(self, record_id: str) -> None:
        """Refuse (recorded) a key whose certificate is not registered to the user."""
        from ketascreen.records.certificates import check_signer  # noqa: PLC0415
        from ketascreen.reports.keys import read_certificate  # noqa: PLC0415

        passphrase = read_secret(self._args.passphrase_file, "passphrase")
        try:
            data = Path(self._args.sign).read_bytes()
        except OSError as error:
            raise InputFileError(self._args.sign, f"cannot be read: {error.strerror}") from None
        facts = read_certificate(data, passphrase=passphrase, path=self._args.sign)
        check_signer(self.store, self.actor, facts.sha256, facts.subject_name,
                     action="amend" if self._args.amends else "sign", record_id=record_id,
                     register=False)

    def save(self, screening: Screening, signed_pdf: bytes | None) -> None:
        """Store the screening (an amendment with ``--amends``) and say so on stderr."""
        ruleset = screening.rules
        if self._args.amends:
            assert signed_pdf is not None
            stored = self.store.amend(self.actor, self._args.amends, screening,
                                      signed_pdf=signed_pdf, reason=self._args.reason or "",
                                      ruleset=ruleset)
        else:
            stored = self.store.create(self.actor, screening, ruleset=ruleset,
                                       signed_pdf=signed_pdf)
        what = f"amendment of {stored.amends}" if stored.amends else stored.status
        print(f"ketascreen: saved record {stored.record_id} ({what})", file=sys.stderr)

    def close(self) -> None:
        """Release the database."""
        self.store.close()


def check_save_arguments(args: argparse.Namespace) -> None:
    """The combinations ``--save`` allows.

    Raises:
        InputFileError: naming the option that does not fit.
    """
    if (args.amends or args.reason) and not args.save:
        raise InputFileError("--amends", "--amends and --reason need --save")
    if not args.save:
        return
    if args.summary:
        raise InputFileError("--save", "--save does not combine with --summary")
    if len(args.sources) > 1:
        raise InputFileError(args.sources[1], "--save takes one source at a time")
    if args.amends and not args.sign:
        raise InputFileError("--amends", "an amendment is signed: add --pdf OUT --sign KEY")
    if args.amends and not (args.reason or "").strip():
        raise InputFileError("--amends", "say why with --reason")
