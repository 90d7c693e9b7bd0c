"""The /api/v1 routers, one module per service behind them."""

from fastapi import APIRouter

from gosmed.edge.routes import (
    corrections,
    documents,
    feedback,
    identity,
    lab_results,
    organizations,
    records,
    registry,
    scheduling,
)

ROUTERS: tuple[APIRouter, ...] = (
    identity.router,
    registry.router,
    records.router,
    corrections.router,
    lab_results.router,
    documents.router,
    scheduling.router,
    feedback.router,
    organizations.router,
)
