"""Logins with lockout, API tokens, and user administration (audited)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from hotline.accounts.models import DEPARTMENT_ROLES, ApiToken, Role, User, hash_token
from hotline.audit import actions as audit
from hotline.directory.models import Department
from hotline.lib.errors import Forbidden, InvalidInput


class LoginFailed(Forbidden):
    status_code = 401


class AccountLocked(Forbidden):
    status_code = 423


def do_login(username: str, password: str, *, now: dt.datetime | None = None) -> User:
    """Check a password; after HOTLINE_LOCKOUT_THRESHOLD failures the account is
    locked for HOTLINE_LOCKOUT_MINUTES. Unknown users and wrong passwords answer alike."""
    now = now or timezone.now()
    # The failure counter and the audit row must commit even though the login fails:
    # decide inside the transaction, raise after it.
    refusal: Forbidden | None = None
    with transaction.atomic():
        user = User.objects.select_for_update().filter(username=username).first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            refusal = LoginFailed("wrong username or password")
        elif user.locked_until and user.locked_until > now:
            audit.record(user, "login.refused_locked", user, at=now)
            refusal = AccountLocked(f"account locked until {timezone.localtime(user.locked_until):%Y-%m-%d %H:%M}")
        elif not user.is_active or not user.check_password(password):
            user.failed_logins += 1
            fields = ["failed_logins"]
            if user.failed_logins >= settings.HOTLINE_LOCKOUT_THRESHOLD:
                user.locked_until = now + dt.timedelta(minutes=settings.HOTLINE_LOCKOUT_MINUTES)
                user.failed_logins = 0
                fields.append("locked_until")
                audit.record(user, "login.locked", user, at=now)
            else:
                audit.record(user, "login.failed", user, at=now)
            user.save(update_fields=fields)
            refusal = LoginFailed("wrong username or password")
        else:
            user.failed_logins = 0
            user.locked_until = None
            user.last_login = now
            user.save(update_fields=["failed_logins", "locked_until", "last_login"])
            audit.record(user, "login", user, at=now)
    if refusal is not None or user is None:
        raise refusal or LoginFailed("wrong username or password")
    return user


def do_issue_token(user: User, name: str = "", *, now: dt.datetime | None = None) -> tuple[str, ApiToken]:
    now = now or timezone.now()
    raw = "hl_" + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, key_hash=hash_token(raw), name=name[:64], expires_at=now + dt.timedelta(days=settings.HOTLINE_TOKEN_DAYS)
    )
    audit.record(user, "token.issue", user, changes=[{"field": "token", "old": None, "new": token.pk}], at=now)
    return raw, token


USER_FIELDS = ["username", "display_name", "role", "department", "phone", "extension", "is_active"]


def require_admin(actor: User) -> None:
    if actor.role != Role.ADMIN or not actor.is_active:
        raise Forbidden("only a system administrator may manage users")


def _clean_user(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    errors: list[dict[str, str]] = []
    out: dict[str, Any] = {}
    if "username" in data or creating:
        username = str(data.get("username") or "").strip()
        if not username or len(username) > 150:
            errors.append({"field": "username", "rule": "required", "message": "username is required (max 150)"})
        elif creating and User.objects.filter(username=username).exists():
            errors.append({"field": "username", "rule": "unique", "message": "username is taken"})
        out["username"] = username
    if "role" in data or creating:
        role = data.get("role")
        if role not in Role.values:
            errors.append({"field": "role", "rule": "choice", "message": f"role must be one of {Role.values}"})
        out["role"] = role
    if "department" in data:
        value = data.get("department")
        dept = None
        if value not in (None, ""):
            dept = Department.objects.filter(**({"pk": value} if isinstance(value, int) else {"code": value})).first()
            if dept is None:
                errors.append({"field": "department", "rule": "exists", "message": f"no department {value!r}"})
        out["department"] = dept
    for name, limit in (("display_name", 64), ("phone", 32)):
        if name in data:
            value = str(data.get(name) or "").strip()
            if len(value) > limit:
                errors.append({"field": name, "rule": "max_length", "message": f"{name} max {limit}"})
            out[name] = value
    if "extension" in data:
        ext = str(data.get("extension") or "").strip() or None
        if ext and not (ext.isdigit() and 2 <= len(ext) <= 8):
            errors.append({"field": "extension", "rule": "digits", "message": "extension must be 2-8 digits"})
        out["extension"] = ext
    if "is_active" in data:
        if not isinstance(data["is_active"], bool):
            errors.append({"field": "is_active", "rule": "type", "message": "is_active must be true or false"})
        out["is_active"] = bool(data["is_active"])
    role = out.get("role", data.get("_current_role"))
    dept = out.get("department", data.get("_current_department"))
    if role in DEPARTMENT_ROLES and dept is None and not errors:
        errors.append({"field": "department", "rule": "required_for_role", "message": "department users need a department"})
    if errors:
        raise InvalidInput.many(errors)
    return out


def _check_password(password: str, user: User | None) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("password", "password_policy", "; ".join(exc.messages)) from exc


def do_create_user(actor: User | None, data: Mapping[str, Any], password: str, *, now: dt.datetime | None = None) -> User:
    """Create a user. ``actor`` None means the CLI (the operator of the machine)."""
    if actor is not None:
        require_admin(actor)
    fields = _clean_user(data, creating=True)
    _check_password(password, None)
    with transaction.atomic():
        user = User(**fields)
        user.set_password(password)
        user.save()
        audit.record(actor, "user.create", user, changes=audit.diff({}, audit.snapshot(user, USER_FIELDS)), at=now)
    return user


def do_update_user(actor: User, user_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> User:
    require_admin(actor)
    with transaction.atomic():
        user = User.objects.select_for_update().filter(pk=user_id).first()
        if user is None:
            from hotline.lib.errors import NotFound

            raise NotFound("user not found")
        fields = _clean_user({**data, "_current_role": user.role, "_current_department": user.department}, creating=False)
        fields.pop("username", None)
        before = audit.snapshot(user, USER_FIELDS)
        for key, value in fields.items():
            setattr(user, key, value)
        user.save()
        action = "user.role_change" if before["role"] != user.role else "user.update"
        audit.record(actor, action, user, changes=audit.diff(before, audit.snapshot(user, USER_FIELDS)), at=now)
    return user


def do_set_password(actor: User | None, user: User, password: str, *, now: dt.datetime | None = None) -> None:
    if actor is not None and actor.pk != user.pk:
        require_admin(actor)
    _check_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.failed_logins, user.locked_until = 0, None
        user.save(update_fields=["password", "failed_logins", "locked_until"])
        audit.record(actor, "user.password", user, changes=[{"field": "password", "old": "***", "new": "***"}], at=now)
