"""A lab result rendered without the laboratory's file: a real WeasyPrint PDF with the study
and the values, and FHIR XML that parses back into the `fhir.resources` models."""

import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID

from fhir.resources.diagnosticreport import DiagnosticReport
from fhir.resources.observation import Observation

from gosmed.contracts import demo
from gosmed.contracts.documents.lab_reports import RenderLabReport
from gosmed.contracts.identity.access import PatientRef
from gosmed.contracts.records.lab import (
    Analyte,
    AnalyteFlag,
    LabFileFormat,
    LabResultDetail,
    LabResultSummary,
    LabStatus,
    ReferenceRange,
)
from gosmed.documents.lab_reports import LOINC, lab_file, render_lab_report

GLUCOSE = Analyte(
    code="GLU",
    loinc="2345-7",
    name="Глюкоза",
    value="7.2",
    unit="ммоль/л",
    reference_range=ReferenceRange(low=Decimal("3.9"), high=Decimal("6.1")),
    flag=AnalyteFlag.HIGH,
)
CHOLESTEROL = Analyte(
    code="CHOL",
    name="Холестерин общий",
    value="4.9",
    unit="ммоль/л",
    reference_range=ReferenceRange(high=Decimal("5.2"), text="< 5,2"),
)
RESULT = LabResultDetail(
    patient=PatientRef(
        account_id=UUID(int=1),
        snils=demo.PATIENT.snils,
        full_name=demo.PATIENT.full_name,
        birth_date=demo.PATIENT.birth_date,
    ),
    item=LabResultSummary(
        id=UUID(int=5),
        organization_id=UUID(int=6),
        study_code="B03.016.004",
        study_name="Анализ крови биохимический общетерапевтический",
        status=LabStatus.READY,
        ordered_on=date(2026, 11, 20),
        ready_at=datetime(2026, 11, 22, 9, tzinfo=UTC),
    ),
    clinic_result_id="LAB-1",
    analytes=(GLUCOSE, CHOLESTEROL),
)


def request(fmt: LabFileFormat) -> RenderLabReport:
    return RenderLabReport(
        result=RESULT, organization_name="ГП № 7", format=fmt, rendered_on=date(2026, 12, 1)
    )


def test_the_pdf_shows_the_study_and_every_value(tmp_path: Path) -> None:
    pdf = render_lab_report(request(LabFileFormat.PDF))
    path = tmp_path / "lab.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout

    assert pdf.startswith(b"%PDF-")
    assert "Анализ крови биохимический" in text
    assert "Глюкоза" in text
    assert "7.2" in text
    assert "выше" in text  # the flag of glucose
    assert "4.9" in text
    assert demo.PATIENT.full_name in text


def test_the_xml_is_a_fhir_diagnostic_report_with_its_observations() -> None:
    xml = render_lab_report(request(LabFileFormat.XML))

    report = DiagnosticReport.model_validate_xml(xml).model_dump(mode="json")
    assert report["status"] == "final"
    assert report["code"]["text"] == RESULT.item.study_name
    assert [r["reference"] for r in report["result"]] == ["#obs1", "#obs2"]
    glucose_obs = Observation.model_validate(report["contained"][0]).model_dump(mode="json")
    codes = {(c["system"], c["code"]) for c in glucose_obs["code"]["coding"]}
    assert (LOINC, "2345-7") in codes
    assert any(code == "GLU" for _, code in codes)
    assert float(glucose_obs["valueQuantity"]["value"]) == 7.2
    assert float(glucose_obs["referenceRange"][0]["high"]["value"]) == 6.1
    assert glucose_obs["interpretation"][0]["coding"][0]["code"] == "H"


def test_the_file_names_its_format() -> None:
    file = lab_file(request(LabFileFormat.XML), b"<x/>")
    assert file.rendered
    assert file.media_type == "application/fhir+xml"
    assert file.file_name == "lab-result-2026-11-20.xml"
