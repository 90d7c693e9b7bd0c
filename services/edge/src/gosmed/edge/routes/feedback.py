"""Edge routes served by the feedback service."""

from fastapi import APIRouter

router = APIRouter(tags=["feedback"])
