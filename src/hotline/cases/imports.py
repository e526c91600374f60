"""Import of historical tickets (closed cases from the previous system) from XLSX.

The first row holds the column names (Chinese, as in the export). Every row is
checked on its own; valid rows are imported, each in its own transaction through
``actions.do_import_historical``; the answer lists every row's outcome.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

from django.utils import timezone
from openpyxl import load_workbook

from hotline.accounts.models import User
from hotline.cases import actions
from hotline.cases.models import Satisfaction
from hotline.lib.errors import Forbidden, HotlineError, InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000

#: column title -> input field
HEADERS = {
    "工单编号": "number",
    "受理时间": "created_at",
    "来电人": "citizen_name",
    "联系电话": "contact_phone",
    "受理渠道": "source",
    "诉求类型": "service_type",
    "诉求分类": "category",
    "区县": "district",
    "地址": "address",
    "诉求摘要": "summary",
    "诉求内容": "content",
    "承办单位": "lead_department",
    "办理结果": "result",
    "满意度": "satisfaction",
    "办结时间": "closed_at",
}
REQUIRED = {"created_at", "contact_phone", "source", "service_type", "summary", "content"}
SATISFACTION_BY_LABEL = {str(c.label): c.value for c in Satisfaction} | {c.value: c.value for c in Satisfaction}


def _as_datetime(value: Any, field: str) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    else:
        text = str(value).strip()
        for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
            try:
                parsed = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise InvalidInput(field, "datetime", f"{field}: expected YYYY-MM-DD HH:MM, got {text!r}")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def parse_rows(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    if len(data) > MAX_BYTES:
        raise InvalidInput("file", "max_size", f"the file is larger than {MAX_BYTES} bytes")
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput("file", "xlsx", "the file is not a readable XLSX workbook") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise InvalidInput("file", "header_row", "the first row must hold the column names")
    fields = [HEADERS.get(str(h).strip()) if h is not None else None for h in header]
    missing = REQUIRED - set(fields)
    if missing:
        names = [k for k, v in HEADERS.items() if v in missing]
        raise InvalidInput("file", "required_columns", f"missing columns: {', '.join(names)}")
    out = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(v in (None, "") for v in row):
            continue
        if len(out) >= MAX_ROWS:
            raise InvalidInput("file", "max_rows", f"at most {MAX_ROWS} rows per import")
        out.append((number, {f: v for f, v in zip(fields, row, strict=False) if f}))
    wb.close()
    return out


def import_xlsx(actor: User, data: bytes, *, dry_run: bool = False) -> dict[str, Any]:
    if actor.role not in actions.IMPORT_ROLES:
        raise Forbidden("only team leaders and administrators may import historical tickets")
    report: list[dict[str, Any]] = []
    imported = 0
    for row_number, values in parse_rows(data):
        try:
            created_at = _as_datetime(values.get("created_at"), "created_at")
            closed_at = _as_datetime(values.get("closed_at"), "closed_at")
            satisfaction = values.get("satisfaction")
            if satisfaction not in (None, ""):
                if str(satisfaction).strip() not in SATISFACTION_BY_LABEL:
                    raise InvalidInput("satisfaction", "choice", f"satisfaction must be one of {list(SATISFACTION_BY_LABEL)}")
                satisfaction = SATISFACTION_BY_LABEL[str(satisfaction).strip()]
            ticket_fields = {
                k: (str(v).strip() if v is not None else "")
                for k, v in values.items()
                if k in actions.TICKET_INPUT_FIELDS
            }
            ticket = actions.do_import_historical(
                actor,
                ticket_fields,
                number=str(values.get("number") or "").strip() or None,
                created_at=created_at,
                closed_at=closed_at,
                lead_department=values.get("lead_department"),
                result=str(values.get("result") or ""),
                satisfaction=satisfaction or "",
                dry_run=dry_run,
            )
            report.append({"row": row_number, "ok": True, "number": ticket.number if ticket else None})
            imported += 1
        except InvalidInput as exc:
            report.append({"row": row_number, "ok": False, "errors": exc.errors})
        except HotlineError as exc:
            report.append({"row": row_number, "ok": False, "errors": [{"field": "row", "rule": "rejected", "message": str(exc)}]})
    return {"imported": 0 if dry_run else imported, "valid": imported, "failed": len(report) - imported, "dry_run": dry_run, "rows": report}
