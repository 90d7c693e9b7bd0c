"""Subscribers of lab results: the clinics' reports through the door, the patient's RPCs."""

from gosmed.contracts import topology
from gosmed.contracts.records.lab import (
    CONFIRM_LAB_RESULT_CHANGE,
    EMAIL_LAB_RESULT,
    EXPORT_LAB_RESULTS,
    GET_LAB_RESULT,
    GET_LAB_RESULT_FILE,
    LAB_RESULTS,
    LIST_LAB_RESULTS,
    REQUEST_LAB_RESULT_CHANGE,
    LabResultsAccepted,
    ReportLabResults,
)
from gosmed.records.lab_results import LabResults
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, lab: LabResults) -> None:

    async def report(body: ReportLabResults) -> LabResultsAccepted:
        runtime.sending_clinic(claimed=body.organization_id)
        return await lab.report(body)

    runtime.consume(
        topology.command_queue(runtime.name, LAB_RESULTS),
        ReportLabResults,
        report,
        description="Clinics' laboratories report lab results (one or a batch of up to 50, "
        "files at most 2 MiB each and 8 MiB a report), through the exchange "
        "`gosmed.clinic-intake` with the AMQP `user_id` of the clinic. Idempotent and "
        "versioned per (organization, clinic result id); a result that becomes ready "
        "notifies the patient.",
        reply=LabResultsAccepted,
        from_clinics=True,
    )
    runtime.serve(LIST_LAB_RESULTS, lab.list_results)
    runtime.serve(GET_LAB_RESULT, lab.get_result)
    runtime.serve(GET_LAB_RESULT_FILE, lab.file)
    runtime.serve(EMAIL_LAB_RESULT, lab.email)
    runtime.serve(EXPORT_LAB_RESULTS, lab.export_values)
    runtime.serve(REQUEST_LAB_RESULT_CHANGE, lab.request_change)
    runtime.serve(CONFIRM_LAB_RESULT_CHANGE, lab.confirm_change)
