"""Subscribers of prescriptions and referrals: the clinics' reports through the door, the
readers' RPCs."""

from gosmed.contracts import topology
from gosmed.contracts.records.intake import ReportAccepted
from gosmed.contracts.records.prescriptions import (
    LIST_PRESCRIPTIONS,
    LIST_REFERRALS,
    PRESCRIPTIONS,
    REFERRALS,
    ReportPrescriptions,
    ReportReferrals,
)
from gosmed.records.prescriptions import Prescriptions
from gosmed.runtime.service import ServiceRuntime


def register(runtime: ServiceRuntime, prescriptions: Prescriptions) -> None:

    async def report_prescriptions(body: ReportPrescriptions) -> ReportAccepted:
        organization_id = runtime.sending_clinic(claimed=body.organization_id)
        return await prescriptions.report_prescriptions(organization_id, body)

    async def report_referrals(body: ReportReferrals) -> ReportAccepted:
        organization_id = runtime.sending_clinic(claimed=body.organization_id)
        return await prescriptions.report_referrals(organization_id, body)

    runtime.consume(
        topology.command_queue(runtime.name, PRESCRIPTIONS),
        ReportPrescriptions,
        report_prescriptions,
        description="Clinics report prescriptions (medicine, dose, schedule, dates, «льготный»), "
        "versioned per clinic id, through the exchange `gosmed.clinic-intake` with the AMQP "
        "`user_id` of the clinic.",
        reply=ReportAccepted,
        from_clinics=True,
    )
    runtime.consume(
        topology.command_queue(runtime.name, REFERRALS),
        ReportReferrals,
        report_referrals,
        description="Clinics report referrals (to whom, why, valid until), versioned per clinic "
        "id, through the exchange `gosmed.clinic-intake` with the AMQP `user_id` of the clinic.",
        reply=ReportAccepted,
        from_clinics=True,
    )
    runtime.serve(LIST_PRESCRIPTIONS, prescriptions.list_prescriptions)
    runtime.serve(LIST_REFERRALS, prescriptions.list_referrals)
