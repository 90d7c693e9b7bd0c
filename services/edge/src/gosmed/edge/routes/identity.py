"""Edge routes served by the identity service."""

from fastapi import APIRouter

router = APIRouter(tags=["identity"])
