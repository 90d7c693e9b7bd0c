"""Edge routes served by the scheduling service."""

from fastapi import APIRouter

router = APIRouter(tags=["scheduling"])
