"""XLSX export of a filtered list and XLSX import of historical tickets with a
per-row error report."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from hotline.cases import actions
from hotline.cases.models import Ticket
from tests.conftest import Api, People, Tree, ticket_input


def test_xlsx_export_follows_the_filters(people: People, tree: Tree, api_as: type[Api]) -> None:
    actions.do_create_ticket(people.call_taker, ticket_input(service_type="consult", summary="咨询公积金提取"))
    actions.do_create_ticket(people.call_taker, ticket_input(service_type="complaint"))
    r = api_as(people.dispatcher).get("/tickets/export.xlsx", {"service_type": "consult"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0] == "工单编号" and len(rows) == 2
    assert rows[1][rows[0].index("诉求摘要")] == "咨询公积金提取"


def workbook(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["工单编号", "受理时间", "来电人", "联系电话", "受理渠道", "诉求类型", "诉求分类", "区县", "地址", "诉求摘要", "诉求内容", "承办单位", "办理结果", "满意度", "办结时间"])
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def upload(api: Api, data: bytes, dry_run: bool = False):  # type: ignore[no-untyped-def]
    return api.client.post(
        "/api/tickets/import" + ("?dry_run=true" if dry_run else ""),
        {"file": SimpleUploadedFile("历史工单.xlsx", data)},
        headers=api.headers,
    )


GOOD = ["2025123100007", "2025-12-31 09:15", "李女士", "13900001111", "phone", "complaint", "sanitation.garbage", "", "西城区兴业路12号", "垃圾清运不及时", "小区垃圾三天未清运，气味很大。", "西城区人民政府", "已督促环卫公司每日清运。", "满意", "2026-01-05 16:00"]


def test_valid_rows_are_imported_and_bad_rows_reported(people: People, tree: Tree, api_as: type[Api]) -> None:
    bad_phone = list(GOOD)
    bad_phone[0], bad_phone[3] = "2025123100008", "abc"
    bad_date = list(GOOD)
    bad_date[0], bad_date[1] = "2025123100009", "去年"
    unknown_dept = list(GOOD)
    unknown_dept[0], unknown_dept[11] = "2025123100010", "火星管理局"
    r = upload(api_as(people.team_leader), workbook([GOOD, bad_phone, bad_date, unknown_dept]))
    assert r.status_code == 200, r.content
    report = r.json()
    assert report["imported"] == 1 and report["failed"] == 3
    rows = {row["row"]: row for row in report["rows"]}
    assert rows[2]["ok"] and rows[2]["number"] == "2025123100007"
    assert rows[3]["errors"][0]["field"] == "contact_phone"
    assert rows[4]["errors"][0] == {"field": "created_at", "rule": "datetime", "message": "created_at: expected YYYY-MM-DD HH:MM, got '去年'"}
    assert rows[5]["errors"][0]["field"] == "lead_department"
    ticket = Ticket.objects.get(number="2025123100007")
    assert ticket.status == "closed" and ticket.satisfaction == "satisfied"
    assert ticket.lead_department == tree.xicheng
    assert [e.kind for e in ticket.events.all()] == ["create", "import_closed"]


def test_a_dry_run_writes_nothing_and_duplicates_are_refused(people: People, tree: Tree, api_as: type[Api]) -> None:
    api = api_as(people.team_leader)
    dry = upload(api, workbook([GOOD]), dry_run=True).json()
    assert dry["valid"] == 1 and dry["imported"] == 0 and not Ticket.objects.exists()
    upload(api, workbook([GOOD]))
    again = upload(api, workbook([GOOD])).json()
    assert again["rows"][0]["errors"][0]["rule"] == "unique"


def test_garbage_files_and_wrong_roles_are_refused(people: People, tree: Tree, api_as: type[Api]) -> None:
    r = upload(api_as(people.team_leader), b"this is not a workbook")
    assert r.status_code == 422 and r.json()["errors"][0]["rule"] == "xlsx"
    assert upload(api_as(people.call_taker), workbook([GOOD])).status_code == 403
