"""Edge routes served by the documents service."""

from fastapi import APIRouter

router = APIRouter(tags=["documents"])
