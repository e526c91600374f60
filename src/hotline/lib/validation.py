"""Field checks shared by the actions modules: each appends ``{field, rule, message}``
to an error list instead of raising, so one request reports every bad field at once
(raise ``lib.errors.InvalidInput(errors)`` when the list is not empty)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def text(data: Mapping[str, Any], field: str, errors: list[dict[str, str]], *, required: bool = False,
         max_length: int | None = None) -> str:
    """The stripped text of ``data[field]`` ("" when absent), checked for type, presence and length."""
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.append({"field": field, "rule": "type", "message": f"{field} must be text"})
        return ""
    value = value.strip()
    if required and not value:
        errors.append({"field": field, "rule": "required", "message": f"{field} is required"})
    if max_length is not None and len(value) > max_length:
        errors.append({"field": field, "rule": "max_length", "message": f"{field} must be at most {max_length} characters"})
    return value
