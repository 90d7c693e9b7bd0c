"""gosmed documents service: official documents (a statement of rendered services, an
extract, a certificate, the treatment dynamics of lab values with a matplotlib chart per
analyte), numbered, signed, verifiable by QR code, rendered to PDF (WeasyPrint) or XLSX in
worker processes; lab results as PDF or FHIR XML for records."""
