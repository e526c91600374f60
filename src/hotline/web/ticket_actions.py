"""One posted action form → one ``cases.actions.do_*`` call.

Text from the form becomes the arguments the action takes; every rule (state,
role, department, required reason, dates, files) is checked by the action.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from hotline.accounts.models import User
from hotline.cases import actions
from hotline.lib.errors import InvalidInput


def _int(value: Any, field: str, *, required: bool = True) -> int | None:
    text = str(value or "").strip()
    if not text:
        if required:
            raise InvalidInput(field, "required", f"{field} is required")
        return None
    if not text.isdigit():
        raise InvalidInput(field, "choice", f"{field} must be chosen from the list")
    return int(text)


def _date(value: Any, field: str) -> dt.date:
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(field, "required", f"{field} is required")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "date", f"{field} must be a date (YYYY-MM-DD)") from None


def _attach(ref: int, user: User, upload: UploadedFile, now: dt.datetime) -> None:
    data = upload.read(settings.HOTLINE_ATTACHMENT_MAX_BYTES + 1)
    actions.do_attach(ref, user, upload.name or "file", upload.content_type, data, now=now)


def departments(data: Any) -> list[int]:
    values = data.getlist("assisting_departments") if hasattr(data, "getlist") else data.get("assisting_departments", [])
    return [v for v in (_int(x, "assisting_departments", required=False) for x in values) if v is not None]


#: Actions whose only input is an optional comment, and those whose only input is the
#: reason the rule requires (the lifecycle's ``comment_required``).
COMMENT_OPTIONAL: dict[str, Callable[..., Any]] = {
    "sign_for": actions.do_sign_for,
    "accept_return": actions.do_accept_return,
    "approve_reply": actions.do_approve_reply,
    "close": actions.do_close,
    "urge": actions.do_urge,
    "close_supervision": actions.do_close_supervision,
}
REASON_REQUIRED: dict[str, Callable[..., Any]] = {
    "request_return": actions.do_request_return,
    "refuse_return": actions.do_refuse_return,
    "send_back": actions.do_send_back,
    "reopen": actions.do_reopen,
    "void": actions.do_void,
    "not_accept": actions.do_not_accept,
    "supervise": actions.do_supervise,
    "answer_supervision": actions.do_answer_supervision,
    "assist_opinion": actions.do_assist_opinion,
}


def perform(name: str, ref: int, user: User, data: Mapping[str, Any], files: Mapping[str, UploadedFile], now: dt.datetime) -> None:
    c = str(data.get("comment") or "")
    upload = files.get("file")
    if name in COMMENT_OPTIONAL:
        COMMENT_OPTIONAL[name](ref, user, comment=c, now=now)
    elif name in REASON_REQUIRED:
        REASON_REQUIRED[name](ref, user, c, now=now)
    elif name == "register":
        actions.do_register(ref, user, now=now)
    elif name == "resolve_on_spot":
        actions.do_resolve_on_spot(ref, user, str(data.get("result") or ""), now=now)
    elif name == "dispatch":
        actions.do_dispatch(ref, user, _int(data.get("lead_department"), "lead_department"), departments(data), comment=c, now=now)
    elif name == "assign":
        actions.do_assign(ref, user, _int(data.get("handler"), "handler"), comment=c, now=now)  # type: ignore[arg-type]
    elif name == "reply":
        # The reply and its attachment stand or fall together: a refused file undoes the reply.
        with transaction.atomic():
            actions.do_reply(ref, user, str(data.get("result") or ""), now=now)
            if upload is not None:
                _attach(ref, user, upload, now)
    elif name == "callback":
        actions.do_callback(ref, user, str(data.get("satisfaction") or ""), comment=c, now=now)
    elif name == "merge":
        original = str(data.get("original") or "").strip()
        if not original:
            raise InvalidInput("original", "required", "original is required")
        actions.do_merge(ref, user, original, comment=c, now=now)
    elif name == "request_extension":
        actions.do_request_extension(ref, user, _date(data.get("new_date"), "new_date"), c, now=now)
    elif name in ("approve_extension", "refuse_extension"):
        actions.do_decide_extension(ref, user, name == "approve_extension", comment=c, now=now)
    elif name == "attach":
        if upload is None:
            raise InvalidInput("file", "required", "choose a file")
        _attach(ref, user, upload, now)
    else:
        raise InvalidInput("action", "choice", f"unknown action {name!r}")
