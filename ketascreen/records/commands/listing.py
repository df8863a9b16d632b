"""``records list`` and ``records show``: stored screenings as a table, one in full with its
audit events, or as JSON."""

from __future__ import annotations

import argparse
import dataclasses
import json
from datetime import date
from typing import TYPE_CHECKING, TextIO

from ketascreen.records.commands.session import EXIT_OK, jsonable, local_time

if TYPE_CHECKING:
    from ketascreen.records.repository import RecordStore
    from ketascreen.records.users import Actor
    from ketascreen.records.views import RecordSummary, StoredScreening


def list_records(store: RecordStore, actor: Actor, args: argparse.Namespace, out: TextIO) -> int:
    """`records list`: newest first, as a table or JSON."""
    records = store.list_records(actor, day=date.today() if args.today else None,
                                 patient_id=args.patient, limit=args.limit,
                                 current_only=args.current)
    if args.json:
        out.write(json.dumps([dataclasses.asdict(r) for r in records], indent=2,
                             default=jsonable) + "\n")
        return EXIT_OK
    if not records:
        out.write("no records\n")
        return EXIT_OK
    out.write(f"{'RECORD':16} {'STATUS':8} {'SIGNED (or stored)':22} {'PATIENT ID':14} "
              f"{'DECISION':18} PATIENT\n")
    for record in records:
        out.write(f"{record.record_id:16} {record.status:8} "
                  f"{local_time(record.signed_at or record.created_at):22} "
                  f"{record.patient.patient_id:14} {record.decision:18} "
                  f"{record.patient.name}{_links(record)}\n")
    return EXIT_OK


def _links(record: RecordSummary) -> str:
    text = ""
    if record.amends:
        text += f"  [amends {record.amends}]"
    if record.superseded_by:
        text += f"  [SUPERSEDED by {record.superseded_by}]"
    return text


def show(store: RecordStore, actor: Actor, args: argparse.Namespace, out: TextIO) -> int:
    """`records show`: one record and its audit events, as text or JSON."""
    stored = store.get(actor, args.record_id)
    events = store.events(actor, stored.record_id)
    if args.json:
        data = dataclasses.asdict(stored)
        data["case"] = json.loads(data.pop("case_json"))
        data["result"] = json.loads(data.pop("result_json"))
        data["events"] = [dataclasses.asdict(e) for e in events]
        out.write(json.dumps(data, indent=2, default=jsonable, ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(_describe(stored) + "\nAudit events:\n")
    for event in events:
        flag = "" if event.outcome == "ok" else " REFUSED"
        out.write(f"  #{event.seq} {event.occurred_at} {event.action}{flag} by "
                  f"{event.username} ({event.role or '-'})\n")
    return EXIT_OK


def _describe(stored: StoredScreening) -> str:
    from ketascreen.models.checklist import DECISION_LABELS  # noqa: PLC0415

    result = stored.result()
    versions = stored.versions
    status = stored.status + _links(stored)
    lines = [
        f"Record:          {stored.record_id}",
        f"Status:          {status}",
        f"Patient:         {stored.patient.name} ({stored.patient.patient_id}), born "
        f"{stored.patient.birth_date.isoformat()}",
        f"Screening date:  {stored.screening_date.isoformat()}",
        f"Decision:        {DECISION_LABELS[stored.decision][0]}",
        f"Stored:          {local_time(stored.created_at)} by {stored.created_by}",
    ]
    if stored.signed_at is not None:
        lines.append(f"Signed:          {local_time(stored.signed_at)} by {stored.signed_by} "
                     f"(certificate: {stored.signer_name})")
        lines.append(f"Certificate:     sha256 {stored.signer_certificate_sha256 or '-'}")
        lines.append(f"Document:        sha256 {stored.document_sha256}, "
                     f"{stored.document_size} bytes")
    if stored.amendment_reason:
        lines.append(f"Amendment reason: {stored.amendment_reason}")
    lines += [
        f"Rule set:        {versions.ruleset_version} sha256 {versions.ruleset_sha256}",
        f"Clinic policy:   {versions.policy_version} sha256 {versions.policy_sha256}",
        f"Formulary:       {versions.formulary_version} sha256 {versions.formulary_sha256}",
        f"Findings ({len(result.findings)}):",
        *(f"  {f.severity.upper():8} {f.rule_id}  {f.title}"
          + ("  [acknowledged]" if f.acknowledged else "") for f in result.findings),
    ]
    return "\n".join(lines)
