"""Tests of the FHIR R4 importer."""
