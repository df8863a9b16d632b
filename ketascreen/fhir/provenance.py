"""The provenance suffix written at the end of an imported entry's ``text``.

``ketascreen-case/1`` forbids unknown keys, so the source of an imported condition or medication
travels in its text: ``"Clonazepam [Klonopin] (from MedicationRequest/abc-123)"``, with the id
exactly as in the record, so a clinician can look it up. Recognition by name ignores a trailing
suffix of this form (:func:`ketascreen.knowledge.recognition.strip_provenance`), so an id such as
``diazepam-1`` never reads as a drug name.

A FHIR id has only ``A-Z a-z 0-9 - .``; an id with any other character (invalid FHIR, which
could also break the suffix's form) is replaced by ``~0x`` and 12 hex digits of its SHA-256. The
exact id is always in the structured :class:`~ketascreen.fhir.result.Provenance`.
"""

from __future__ import annotations

import hashlib
import re

_FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")


def written_id(resource_id: str) -> str:
    """The id as written in a provenance suffix: itself, or a digest if it is not a FHIR id."""
    if _FHIR_ID.fullmatch(resource_id):
        return resource_id
    return "~0x" + hashlib.sha256(resource_id.encode("utf-8")).hexdigest()[:12]


def source_suffix(resource_type: str, resource_id: str | None, fallback: str) -> str:
    """``" (from Type/id)"``; ``fallback`` names a resource without id.

    Args:
        resource_type: the FHIR resource type (letters only, e.g. ``MedicationRequest``).
        resource_id: the resource's logical id, or ``None``.
        fallback: what identifies a resource without id (its ``fullUrl`` or file name); its
            last ``/`` or ``:`` segment is written after a space.
    """
    if resource_id:
        return f" (from {resource_type}/{written_id(resource_id)})"
    tail = re.split(r"[/:]", fallback)[-1] or fallback
    return f" (from {resource_type} {written_id(tail)})"


def with_source(text: str, resource_type: str, resource_id: str | None, fallback: str) -> str:
    """``text`` followed by its provenance suffix."""
    return text.rstrip() + source_suffix(resource_type, resource_id, fallback)
