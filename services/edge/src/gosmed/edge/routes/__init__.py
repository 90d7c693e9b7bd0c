"""The /api/v1 routers, one module per service behind them."""

from fastapi import APIRouter

from gosmed.edge.routes import (
    corrections,
    documents,
    emk,
    feedback,
    identity,
    lab_results,
    organizations,
    prescriptions,
    records,
    registry,
    scheduling,
    shares,
    support,
)

ROUTERS: tuple[APIRouter, ...] = (
    identity.router,
    registry.router,
    records.router,
    emk.router,
    prescriptions.router,
    corrections.router,
    lab_results.router,
    documents.router,
    scheduling.router,
    feedback.router,
    shares.router,
    organizations.router,
    support.router,
)
