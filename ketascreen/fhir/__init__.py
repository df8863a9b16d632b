"""Import FHIR R4 records (Bundles, single resources, resource folders) as screening cases.

Public API: :func:`import_fhir`, returning a :class:`FhirImport` (the case, data-quality
:class:`ImportWarning` s, :class:`Provenance`, and the dated :class:`ImportedScore` s and
:class:`ImportedVital` s a course uses); :func:`course_bundle` exports a course as a Bundle;
errors are
:class:`ketascreen.errors.FhirImportError` and its subclass
:class:`ketascreen.errors.DeceasedPatientError`.

Parsing uses plain :mod:`json` and narrow pydantic models of the few elements read
(:mod:`ketascreen.fhir.model`), not ``fhir.resources``. Its R4B models (FHIR 4.3.0; version 8
has no 4.0.1 package) accept every sample, and importing them lazily is cheap (about 70 ms on top
of the core), but validating is not: 0.7-0.8 s for the first 1.2 MB Bundle, 2.7-4.3 s for the
57 samples, over the 3 s budget on its own; json plus the narrow models take 12 ms and about
0.45 s (``bench/bench_import.py --compare``).
"""

from __future__ import annotations

from ketascreen.errors import ImportWarning
from ketascreen.fhir.course_export import course_bundle, course_bundle_json
from ketascreen.fhir.importer import import_fhir
from ketascreen.fhir.result import FhirImport, ImportedScore, ImportedVital, Provenance

__all__ = ["FhirImport", "ImportWarning", "ImportedScore", "ImportedVital", "Provenance",
           "course_bundle", "course_bundle_json", "import_fhir"]
