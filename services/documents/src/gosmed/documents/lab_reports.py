"""A lab result as a PDF (HTML through WeasyPrint) and as HL7 FHIR XML: a DiagnosticReport
with its Observations contained, each coded by LOINC (when the laboratory gives it) beside the
laboratory's own code. CPU-bound: run in the render pool's worker processes."""

from decimal import Decimal, InvalidOperation
from typing import Any

from fhir.resources.diagnosticreport import DiagnosticReport

from gosmed.contracts.documents.lab_reports import RenderLabReport
from gosmed.contracts.records.lab import (
    Analyte,
    AnalyteFlag,
    LabFileFormat,
    LabResultFile,
    LabStatus,
)
from gosmed.documents.rendering import html_to_pdf, template

LOINC = "http://loinc.org"
CLINIC_CODES = "urn:gosmed:laboratory-code"
NOMENCLATURE = "urn:gosmed:nomenclature-804n"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
FLAG_CODES = {AnalyteFlag.LOW: "L", AnalyteFlag.HIGH: "H", AnalyteFlag.CRITICAL: "AA"}
FLAG_LABELS = {
    AnalyteFlag.LOW: "ниже нормы",
    AnalyteFlag.HIGH: "выше нормы",
    AnalyteFlag.CRITICAL: "критическое",
}
REPORT_STATUS = {
    LabStatus.ORDERED: "registered",
    LabStatus.IN_PROGRESS: "partial",
    LabStatus.READY: "final",
    LabStatus.CANCELLED: "cancelled",
}


MEDIA_TYPES = {LabFileFormat.PDF: "application/pdf", LabFileFormat.XML: "application/fhir+xml"}


def lab_file(request: RenderLabReport, content: bytes) -> LabResultFile:
    item = request.result.item
    return LabResultFile(
        file_name=f"lab-result-{item.ordered_on.isoformat()}.{request.format.value}",
        media_type=MEDIA_TYPES[request.format],
        content=content,
        rendered=True,
    )


def render_lab_report(request: RenderLabReport) -> bytes:
    """The worker-process entry point."""
    if request.format == LabFileFormat.XML:
        return fhir_xml(request)
    return html_to_pdf(lab_html(request))


def lab_html(request: RenderLabReport) -> str:
    result = request.result
    return template("lab_result.html").render(
        patient=result.patient,
        item=result.item,
        organization=request.organization_name,
        specialist=result.specialist_name,
        clinic_result_id=result.clinic_result_id,
        analytes=result.analytes,
        ranges=[_range_text(a) for a in result.analytes],
        flags=[FLAG_LABELS[a.flag] if a.flag else "" for a in result.analytes],
        rendered_on=request.rendered_on,
    )


def fhir_xml(request: RenderLabReport) -> bytes:
    result = request.result
    item = result.item
    observations = [
        _observation(f"obs{index}", analyte, REPORT_STATUS[item.status])
        for index, analyte in enumerate(result.analytes, start=1)
    ]
    report: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(item.id),
        "identifier": [{"system": CLINIC_CODES, "value": result.clinic_result_id}],
        "status": REPORT_STATUS[item.status],
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0074",
                        "code": "LAB",
                        "display": "Laboratory",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": NOMENCLATURE, "code": item.study_code}],
            "text": item.study_name,
        },
        "subject": {"display": result.patient.full_name},
        "performer": [{"display": request.organization_name or str(item.organization_id)}],
        "contained": observations,
        "result": [{"reference": f"#{o['id']}"} for o in observations],
    }
    if item.ready_at is not None:
        report["issued"] = item.ready_at.isoformat()
        report["effectiveDateTime"] = (result.collected_at or item.ready_at).isoformat()
    xml: str | bytes = DiagnosticReport.model_validate(report).model_dump_xml(pretty_print=True)
    return xml if isinstance(xml, bytes) else xml.encode()  # typed str, bytes with lxml


def _observation(ident: str, analyte: Analyte, status: str) -> dict[str, Any]:
    coding = [{"system": CLINIC_CODES, "code": analyte.code, "display": analyte.name}]
    if analyte.loinc:
        coding.insert(0, {"system": LOINC, "code": analyte.loinc})
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final" if status == "final" else "preliminary",
        "code": {"coding": coding, "text": analyte.name},
    }
    number = _number(analyte.value)
    if number is not None:
        observation["valueQuantity"] = {"value": number, "unit": analyte.unit}
    else:
        observation["valueString"] = analyte.value
    reference = analyte.reference_range
    if reference is not None:
        bounds: dict[str, Any] = {}
        if reference.low is not None:
            bounds["low"] = {"value": reference.low, "unit": analyte.unit}
        if reference.high is not None:
            bounds["high"] = {"value": reference.high, "unit": analyte.unit}
        if reference.text:
            bounds["text"] = reference.text
        if bounds:
            observation["referenceRange"] = [bounds]
    if analyte.flag is not None:
        observation["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": FLAG_CODES[analyte.flag]}]}
        ]
    return observation


def _number(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace(",", ".").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _range_text(analyte: Analyte) -> str:
    reference = analyte.reference_range
    if reference is None:
        return ""
    if reference.text:
        return reference.text
    low = str(reference.low) if reference.low is not None else ""
    high = str(reference.high) if reference.high is not None else ""
    return f"{low}–{high}"
