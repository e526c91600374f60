"""Errors that actions raise and the API turns into 4xx JSON answers.

Every error names what went wrong in a way a client can act on:
``InvalidInput`` names the field and the rule, ``IllegalTransition`` the current
state and the actions allowed in it.
"""

from __future__ import annotations

from typing import Any


class HotlineError(Exception):
    status_code = 400

    def payload(self) -> dict[str, Any]:
        return {"detail": str(self)}


class InvalidInput(HotlineError):
    status_code = 422

    def __init__(self, field: str, rule: str, message: str | None = None) -> None:
        self.errors = [{"field": field, "rule": rule, "message": message or rule}]
        super().__init__(f"{field}: {message or rule}")

    @classmethod
    def many(cls, errors: list[dict[str, str]]) -> InvalidInput:
        first = errors[0]
        exc = cls(first["field"], first["rule"], first.get("message"))
        exc.errors = errors
        return exc

    def payload(self) -> dict[str, Any]:
        return {"detail": "invalid input", "errors": self.errors}


class IllegalTransition(HotlineError):
    status_code = 409

    def __init__(self, action: str, current: str, allowed: list[str], *, rule: str | None = None) -> None:
        self.action, self.current, self.allowed, self.rule = action, current, allowed, rule
        if rule:
            super().__init__(f"action {action!r} needs {rule.replace('_', ' ')} (rule {rule!r}) in state {current!r}")
        else:
            super().__init__(f"action {action!r} is not allowed in state {current!r}")

    def payload(self) -> dict[str, Any]:
        out = {"detail": str(self), "action": self.action, "current_state": self.current, "allowed_actions": self.allowed}
        if self.rule:
            out["rule"] = self.rule
        return out


class Forbidden(HotlineError):
    status_code = 403


class NotFound(HotlineError):
    status_code = 404


class Conflict(HotlineError):
    status_code = 409
