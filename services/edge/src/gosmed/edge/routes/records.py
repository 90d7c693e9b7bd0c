"""Edge routes served by the records service."""

from fastapi import APIRouter

router = APIRouter(tags=["records"])
