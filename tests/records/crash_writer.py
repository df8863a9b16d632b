"""A writer process for the crash test: saves records (or audit events) until it is killed.

Run as ``python -m tests.records.crash_writer URL MODE KEY PASSPHRASE_FILE START [RECORD]``.
It prints ``begin N`` just before each save and ``committed N ID`` just after its commit, so the
test knows which saves were committed and whether the kill landed in the middle of one.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST

from ketascreen.records import users
from ketascreen.records.repository import RecordStore
from ketascreen.records.worklist import record_double_check, record_print
from ketascreen.reports.output import SigningRequest
from tests.records.support import PASSWORDS, screening_of, signed_pdf


def main(argv: list[str]) -> int:
    """Write until killed."""
    url, mode, key, passphrase_file, start = argv[:5]
    users._HASHER = PasswordHasher.from_parameters(CHEAPEST)  # as the test's accounts
    store = RecordStore.open(url)
    signing = SigningRequest(Path(key).read_bytes(),
                             Path(passphrase_file).read_bytes().rstrip(b"\n"), key)
    if mode == "events":
        nurse = store.authenticate("rnpatel", PASSWORDS["rnpatel"])
        record_id = argv[5]
        for number in itertools.count(int(start)):
            print(f"begin {number}", flush=True)
            if number % 2:
                seq = record_print(store, nurse, record_id)
            else:
                seq = record_double_check(store, nurse, record_id, witness="rnlee")
            print(f"committed {number} {seq}", flush=True)
    physician = store.authenticate("drsmith", PASSWORDS["drsmith"])
    for number in itertools.count(int(start)):
        screening = screening_of({"patient.id": f"CRASH-{number}",
                                  "patient.name": f"Crash Test {number}"}, base="clean")
        pdf = signed_pdf(screening, signing) if number % 3 else None
        print(f"begin {number}", flush=True)
        stored = store.create(physician, screening, signed_pdf=pdf)
        print(f"committed {number} {stored.record_id}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
