"""CSV and XLSX exports of a filtered ticket list, masked for the viewer."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from openpyxl import Workbook

from hotline.accounts.models import User
from hotline.cases import access, queries
from hotline.cases.models import Satisfaction, Status, Ticket, Urgency
from hotline.lib.errors import InvalidInput

MAX_ROWS = 200_000

COLUMNS: list[tuple[str, Any]] = [
    ("工单编号", lambda t, u: t.number),
    ("状态", lambda t, u: str(Status(t.status).label)),
    ("创建时间", lambda t, u: _time(t.created_at)),
    ("受理渠道", lambda t, u: t.source.name if t.source_id else ""),
    ("诉求类型", lambda t, u: t.service_type.name if t.service_type_id else ""),
    ("诉求分类", lambda t, u: str(t.category) if t.category_id else ""),
    ("区县", lambda t, u: t.district.name if t.district_id else ""),
    ("地址", lambda t, u: t.address),
    ("来电人", lambda t, u: t.citizen_name),
    ("联系电话", lambda t, u: access.phone_for(u, t, t.contact_phone)),
    ("紧急程度", lambda t, u: str(Urgency(t.urgency).label)),
    ("诉求摘要", lambda t, u: t.summary),
    ("诉求内容", lambda t, u: t.content),
    ("承办单位", lambda t, u: t.lead_department.name if t.lead_department_id else ""),
    ("派单时间", lambda t, u: _time(t.dispatched_at)),
    ("办理时限", lambda t, u: _time(t.deadline)),
    ("回复时间", lambda t, u: _time(t.replied_at)),
    ("办理结果", lambda t, u: t.result),
    ("满意度", lambda t, u: str(Satisfaction(t.satisfaction).label) if t.satisfaction else ""),
    ("办结时间", lambda t, u: _time(t.closed_at)),
    ("催办次数", lambda t, u: t.urge_count),
]


def _time(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _rows(user: User, f: queries.TicketFilter, now: dt.datetime) -> Iterator[list[Any]]:
    qs = queries.order(queries.apply_filters(access.visible_tickets(user), f, now), f.sort)
    if qs.order_by()[: MAX_ROWS + 1].count() > MAX_ROWS:
        raise InvalidInput("filters", "max_rows", f"more than {MAX_ROWS} tickets match; narrow the filters")
    qs = qs.select_related("source", "service_type", "category", "category__parent", "district", "lead_department")
    for t in qs.iterator(chunk_size=2000):
        yield [fn(t, user) for _, fn in COLUMNS]


def _filename(now: dt.datetime, ext: str) -> str:
    return f"tickets-{timezone.localtime(now):%Y%m%d-%H%M}.{ext}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(user: User, f: queries.TicketFilter, now: dt.datetime) -> StreamingHttpResponse:
    rows = _rows(user, f, now)
    first = next(rows, None)  # validate filters before the response starts
    writer = csv.writer(_Echo())

    def stream() -> Iterator[str]:
        yield "\ufeff" + writer.writerow([name for name, _ in COLUMNS])
        if first is not None:
            yield writer.writerow(first)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename(now, "csv")}"'
    return response


def xlsx_bytes(user: User, f: queries.TicketFilter, now: dt.datetime) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工单")
    ws.append([name for name, _ in COLUMNS])
    for row in _rows(user, f, now):
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def xlsx_response(user: User, f: queries.TicketFilter, now: dt.datetime) -> HttpResponse:
    response = HttpResponse(
        xlsx_bytes(user, f, now), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename(now, "xlsx")}"'
    return response


def ticket_queryset_for_export(user: User) -> Any:  # pragma: no cover - convenience for scripts
    return access.visible_tickets(user, Ticket.objects.all())
