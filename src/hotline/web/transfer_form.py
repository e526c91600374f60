"""办理转送单: the printable transfer form of one ticket, as PDF.

ReportLab with its built-in Adobe CID font STSong-Light (no font file to ship, any
PDF reader has it). Personal data is masked exactly as on the ticket page for the
person printing (``cases.access``).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from hotline.accounts.models import User
from hotline.cases import access
from hotline.cases.models import Ticket

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))
TITLE = ParagraphStyle("title", fontName=FONT, fontSize=16, leading=22, alignment=1, spaceAfter=4)
SUB = ParagraphStyle("sub", fontName=FONT, fontSize=9, leading=12, alignment=1, textColor=colors.grey)
CELL = ParagraphStyle("cell", fontName=FONT, fontSize=10, leading=14, wordWrap="CJK")
LABEL = ParagraphStyle("label", parent=CELL, textColor=colors.HexColor("#333333"))


def _p(text: Any, style: ParagraphStyle = CELL) -> Paragraph:
    return Paragraph(escape(str(text or "—")).replace("\n", "<br/>"), style)


def _t(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def render(ticket: Ticket, user: User, now: dt.datetime, city: str = "滨江市") -> bytes:
    dispatch = ticket.events.filter(kind="dispatch").order_by("-at", "-id").first()
    assists = "、".join(a.department.name for a in ticket.assists.select_related("department")) or "—"
    rows = [
        ("工单编号", ticket.number, "受理时间", _t(ticket.registered_at or ticket.created_at)),
        ("来电人", ticket.citizen_name, "联系电话", access.phone_for(user, ticket, ticket.contact_phone)),
        ("受理渠道", ticket.source.name, "诉求类型", ticket.service_type.name),
        ("诉求分类", str(ticket.category) if ticket.category_id else "—", "紧急程度", ticket.get_urgency_display()),
        ("所属区域", ticket.district.name if ticket.district_id and ticket.district else "—", "地址", ticket.address),
        ("主办单位", ticket.lead_department.name if ticket.lead_department_id and ticket.lead_department else "—", "协办单位", assists),
        ("派单时间", _t(ticket.dispatched_at), "签收时限", _t(ticket.sign_deadline)),
        ("办理时限", _t(ticket.deadline), "派单人", dispatch.actor_name if dispatch else "—"),
    ]
    data: list[list[Any]] = [[_p(a, LABEL), _p(b), _p(c, LABEL), _p(d)] for a, b, c, d in rows]
    wide = [
        ("诉求摘要", ticket.summary), ("诉求内容", ticket.content),
        ("派单意见", dispatch.comment if dispatch and dispatch.comment else "—"),
    ]
    if ticket.leader_instruction:
        wide.append(("领导批示", ticket.leader_instruction))
    wide.append(("办理结果", ticket.result or "(由承办单位填写)\n\n\n"))
    start = len(data)
    data += [[_p(a, LABEL), _p(b), "", ""] for a, b in wide]
    widths = [24 * mm, 62 * mm, 24 * mm, 62 * mm]
    table = Table(data, colWidths=widths, repeatRows=0, splitInRow=1)  # long content flows onto the next page
    style = [
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
        ("BACKGROUND", (2, 0), (2, start - 1), colors.HexColor("#f2f2f2")),
    ]
    style += [("SPAN", (1, r), (3, r)) for r in range(start, len(data))]
    table.setStyle(TableStyle(style))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
                            title=f"办理转送单 {ticket.number}", author=f"{city}12345", subject=ticket.number)
    sign = Table([[_p("承办单位签收人:"), _p("签收时间:"), _p("(盖章)")]], colWidths=[62 * mm, 62 * mm, 48 * mm])
    doc.build([
        Paragraph(f"{city}12345市民服务热线", TITLE),
        Paragraph("办理转送单", TITLE),
        Paragraph(escape(f"打印:{user}  打印时间:{_t(now)}  以工单系统中的最新状态为准"), SUB),
        Spacer(1, 4 * mm), table, Spacer(1, 10 * mm), sign,
    ])
    return buffer.getvalue()
