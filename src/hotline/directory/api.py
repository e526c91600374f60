"""Data dictionary endpoints (filled in by directory work)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["directory"])
