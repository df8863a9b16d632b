"""Reports built from a case and its result: the plain-text report and the PDF checklist."""
