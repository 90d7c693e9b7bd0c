"""Edge routes served by the registry service."""

from fastapi import APIRouter

router = APIRouter(tags=["registry"])
