"""A ticket's whole life through the JSON API, as the people at the center and in
the departments would live it, with the timeline checked at the end."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.audit.models import AuditEntry
from tests.conftest import Api, People, Tree, ticket_input


def ok(response):  # type: ignore[no-untyped-def]
    assert response.status_code in (200, 201), (response.status_code, response.json_body)
    return response.json_body


def test_register_dispatch_return_redispatch_extend_reply_review_callback_reopen_close(
    people: People, tree: Tree, api_as: type[Api]
) -> None:
    call_taker, dispatcher = api_as(people.call_taker), api_as(people.dispatcher)
    street, water = api_as(people.handler), api_as(people.water_handler)

    ticket = ok(call_taker.post("/tickets", ticket_input()))
    ref = ticket["number"]
    assert ticket["status"] == "registered"
    assert len(ticket["query_code"]) == 8
    assert ref.startswith(timezone.localtime().strftime("%Y%m%d"))

    t = ok(dispatcher.post(f"/tickets/{ref}/dispatch", {"lead_department": "donghua", "comment": "请尽快核实处理"}))
    assert t["status"] == "dispatched" and t["lead_department"]["code"] == "donghua"
    assert t["deadline_days"] == 15 and t["colour"] == "green"

    t = ok(street.post(f"/tickets/{ref}/return", {"reason": "属于供水管网问题，应由市水务局办理"}))
    assert t["status"] == "return_requested"
    t = ok(dispatcher.post(f"/tickets/{ref}/return/accept", {"comment": "同意，改派水务局"}))
    assert t["status"] == "returned" and t["lead_department"] is None
    # The street no longer sees it.
    assert street.get(f"/tickets/{ref}").status_code == 404

    t = ok(dispatcher.post(f"/tickets/{ref}/dispatch", {"lead_department": "water", "assisting_departments": ["donghua"]}))
    assert t["status"] == "dispatched" and t["lead_department"]["code"] == "water"
    assert [a["code"] for a in t["assisting_departments"]] == ["donghua"]
    assert street.get(f"/tickets/{ref}").status_code == 200  # as assisting department

    t = ok(water.post(f"/tickets/{ref}/sign-for"))
    assert t["status"] == "signed" and t["handler"]["name"] == "water_handler"
    old_deadline = dt.datetime.fromisoformat(t["deadline"])
    new_date = (timezone.localtime(old_deadline) + dt.timedelta(days=10)).date()
    t = ok(water.post(f"/tickets/{ref}/extension", {"new_date": new_date.isoformat(), "reason": "需更换主管道，施工需要审批"}))
    assert t["pending_extension"]["requested_date"] == new_date.isoformat()
    t = ok(dispatcher.post(f"/tickets/{ref}/extension/approve", {"comment": "同意延期"}))
    assert t["pending_extension"] is None
    assert timezone.localtime(dt.datetime.fromisoformat(t["deadline"])).date() == new_date
    # Nothing is pending any more: approving or refusing again is refused, naming the rule.
    assert "approve_extension" not in t["allowed_actions"] and "refuse_extension" not in t["allowed_actions"]
    for path, body in (("approve", {"comment": "再次同意"}), ("refuse", {"reason": "再次拒绝"})):
        r = dispatcher.post(f"/tickets/{ref}/extension/{path}", body)
        assert r.status_code == 409, (path, r.status_code, r.json_body)
        assert r.json_body["rule"] == "pending_extension_request"
        assert r.json_body["action"] == f"{path}_extension" and r.json_body["current_state"] == "signed"
    assert timezone.localtime(dt.datetime.fromisoformat(ok(dispatcher.get(f"/tickets/{ref}"))["deadline"])).date() == new_date

    t = ok(water.post(f"/tickets/{ref}/reply", {"result": "已安排抢修，预计明日恢复供水"}))
    assert t["status"] == "replied"
    t = ok(dispatcher.post(f"/tickets/{ref}/review/send-back", {"reason": "回复未说明停水原因及后续补偿"}))
    assert t["status"] == "handling"
    t = ok(water.post(f"/tickets/{ref}/reply", {"result": "停水系主管道爆裂，已于今日修复并恢复供水，已向居民致歉。"}))
    assert t["status"] == "replied"
    t = ok(dispatcher.post(f"/tickets/{ref}/review/approve"))
    assert t["status"] == "reviewed"

    t = ok(call_taker.post(f"/tickets/{ref}/callback", {"satisfaction": "dissatisfied", "comment": "市民称仍有水压不足"}))
    assert t["status"] == "called_back" and t["satisfaction"] == "dissatisfied"
    # Closing a dissatisfied ticket needs a reason; here the center reopens instead.
    assert dispatcher.post(f"/tickets/{ref}/close").status_code == 422
    t = ok(dispatcher.post(f"/tickets/{ref}/reopen", {"reason": "回访不满意：水压不足"}))
    assert t["status"] == "handling" and t["reopen_count"] == 1 and t["satisfaction"] == ""
    assert t["deadline_days"] == 5

    t = ok(water.post(f"/tickets/{ref}/reply", {"result": "已调整加压泵站运行参数，水压恢复正常。"}))
    t = ok(dispatcher.post(f"/tickets/{ref}/review/approve"))
    t = ok(call_taker.post(f"/tickets/{ref}/callback", {"satisfaction": "satisfied"}))
    t = ok(dispatcher.post(f"/tickets/{ref}/close"))
    assert t["status"] == "closed" and t["closed_at"] is not None
    assert t["allowed_actions"] == ["reopen"] or "reopen" in t["allowed_actions"]

    timeline = ok(call_taker.get(f"/tickets/{ref}/timeline"))
    assert [(e["kind"], e["to_status"]) for e in timeline] == [
        ("create", "draft"),
        ("register", "registered"),
        ("dispatch", "dispatched"),
        ("request_return", "return_requested"),
        ("accept_return", "returned"),
        ("dispatch", "dispatched"),
        ("sign_for", "signed"),
        ("request_extension", "signed"),
        ("approve_extension", "signed"),
        ("reply", "replied"),
        ("send_back", "handling"),
        ("reply", "replied"),
        ("approve_reply", "reviewed"),
        ("callback", "called_back"),
        ("reopen", "handling"),
        ("reply", "replied"),
        ("approve_reply", "reviewed"),
        ("callback", "called_back"),
        ("close", "closed"),
    ]
    by_kind = {e["kind"]: e for e in timeline}
    assert by_kind["request_return"]["comment"] == "属于供水管网问题，应由市水务局办理"
    assert by_kind["request_return"]["actor_name"] == "handler"
    assert by_kind["accept_return"]["data"]["returned_by"] == "东华街道办事处"
    assert by_kind["reopen"]["data"]["previous_satisfaction"] == "dissatisfied"
    assert all(e["label"] for e in timeline)
    times = [e["at"] for e in timeline]
    assert times == sorted(times)

    # Every step is in the audit log, with the client's address.
    audit = AuditEntry.objects.filter(object_type="cases.ticket", object_id=str(t["id"]))
    assert audit.count() == len(timeline) - 1  # create+register are one audit row
    assert set(audit.values_list("ip", flat=True)) == {"10.1.2.3"}
    dispatch_rows = audit.filter(action="ticket.dispatch").order_by("at", "id")
    assert {"field": "lead_department", "old": None, "new": tree.water.pk} in dispatch_rows.last().changes


def test_resolved_on_the_spot_then_closed(people: People, api_as: type[Api]) -> None:
    call_taker, leader = api_as(people.call_taker), api_as(people.team_leader)
    t = ok(call_taker.post("/tickets", ticket_input(service_type="consult", summary="咨询医保报销比例")))
    t = ok(call_taker.post(f"/tickets/{t['id']}/resolve", {"result": "已告知职工医保住院报销比例为85%"}))
    assert t["status"] == "resolved"
    t = ok(leader.post(f"/tickets/{t['id']}/close"))
    assert t["status"] == "closed"


def test_drafts_merges_voids_and_refusals(people: People, api_as: type[Api]) -> None:
    call_taker, leader = api_as(people.call_taker), api_as(people.team_leader)
    original = ok(call_taker.post("/tickets", ticket_input()))
    draft = ok(call_taker.post("/tickets", ticket_input(draft=True)))
    assert draft["status"] == "draft"
    changed = ok(call_taker.patch(f"/tickets/{draft['id']}", {"summary": "东华路88号再次停水"}))
    assert changed["summary"] == "东华路88号再次停水"
    merged = ok(call_taker.post(f"/tickets/{draft['id']}/merge", {"original": original["number"]}))
    assert merged["status"] == "merged" and merged["merged_into"] == original["number"]
    kinds = [e["kind"] for e in ok(call_taker.get(f"/tickets/{original['id']}/timeline"))]
    assert "duplicate_merged" in kinds
    assert call_taker.post(f"/tickets/{original['id']}/merge", {"original": original["id"]}).status_code == 422

    mistake = ok(call_taker.post("/tickets", ticket_input()))
    assert ok(leader.post(f"/tickets/{mistake['id']}/void", {"reason": "误登记"}))["status"] == "voided"
    outside = ok(call_taker.post("/tickets", ticket_input(summary="要求调解邻里私人借贷纠纷")))
    t = ok(call_taker.post(f"/tickets/{outside['id']}/not-accept", {"reason": "属民事纠纷，建议通过司法途径解决"}))
    assert t["status"] == "not_accepted"


def test_urge_and_supervise_show_up_for_the_handler(people: People, tree: Tree, api_as: type[Api]) -> None:
    t = ok(api_as(people.call_taker).post("/tickets", ticket_input()))
    ok(api_as(people.dispatcher).post(f"/tickets/{t['id']}/dispatch", {"lead_department": "donghua"}))
    t = ok(api_as(people.dispatcher).post(f"/tickets/{t['id']}/urge", {"comment": "市民再次来电催促"}))
    assert t["urge_count"] == 1
    supervisor = api_as(people.supervisor)
    t = ok(supervisor.post(f"/tickets/{t['id']}/supervise", {"reason": "涉及民生，请三日内办结"}))
    assert t["open_supervision"] is True
    t = ok(api_as(people.handler).post(f"/tickets/{t['id']}/supervise/answer", {"reason": "已组织抢修"}))
    t = ok(supervisor.post(f"/tickets/{t['id']}/supervise/close"))
    assert t["open_supervision"] is False
    assert api_as(people.handler).post(f"/tickets/{t['id']}/supervise/close").status_code == 403
