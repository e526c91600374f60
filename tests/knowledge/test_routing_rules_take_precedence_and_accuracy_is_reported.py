"""An administrator's routing rule (category [+ district] → department) outranks
the learned suggestion; the district's own rule outranks the city-wide one; the
suggestion shown for a ticket is logged and compared with the final dispatch, and
the accuracy report counts it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.audit.models import AuditEntry
from hotline.cases import actions as cases
from hotline.knowledge import dispatch
from hotline.knowledge.models import DispatchLog
from tests.conftest import MONDAY, ticket_input
from tests.knowledge._history import write_history

OUTAGE = {"summary": "小区停水两天", "content": "来电人反映小区停水两天未恢复，也没有通知，要求尽快恢复供水。",
          "district": "dongcheng", "category": "water.outage"}


def test_rules_outrank_the_model_and_outcomes_are_measured(people, tree, settings, tmp_path, api_as):
    settings.DATA_DIR = tmp_path
    deps = write_history(400)
    assert dispatch.train(now=MONDAY, holdout=0) is not None
    dispatch.models.invalidate()
    desk, admin = api_as(people.dispatcher), api_as(people.admin)

    learned = desk.post("/knowledge/dispatch/suggest", OUTAGE).json_body
    assert learned["source"] == "model" and learned["departments"][0]["id"] == deps["bj-water"].pk

    r = admin.post("/knowledge/routing-rules", {"category": "water.outage", "department": tree.donghua.code, "note": "二次供水归街道"})
    assert r.status_code == 201, r.json_body
    city_wide = desk.post("/knowledge/dispatch/suggest", OUTAGE).json_body
    assert city_wide["source"] == "rule" and city_wide["rule"] == r.json_body["id"]
    assert [d["id"] for d in city_wide["departments"]][:2] == [tree.donghua.pk, deps["bj-water"].pk]
    assert city_wide["departments"][0]["confidence"] == 1.0

    r2 = admin.post("/knowledge/routing-rules", {"category": "water.outage", "district": "dongcheng", "department": tree.dongcheng.code})
    assert desk.post("/knowledge/dispatch/suggest", OUTAGE).json_body["departments"][0]["id"] == tree.dongcheng.pk
    elsewhere = desk.post("/knowledge/dispatch/suggest", {**OUTAGE, "district": "xicheng"}).json_body
    assert elsewhere["departments"][0]["id"] == tree.donghua.pk
    assert AuditEntry.objects.filter(action="routing_rule.save").count() == 2
    assert admin.delete(f"/knowledge/routing-rules/{r2.json_body['id']}").status_code == 204
    assert admin.delete(f"/knowledge/routing-rules/{r.json_body['id']}").status_code == 204
    assert api_as(people.call_taker).post("/knowledge/routing-rules", {"category": "water.outage",
                                                                       "department": tree.water.code}).status_code == 403

    # A saved ticket: the suggestion is logged, the dispatch resolves it.
    followed = cases.do_create_ticket(people.call_taker, ticket_input(district="dongcheng"), now=MONDAY)
    overruled = cases.do_create_ticket(people.call_taker, ticket_input(district="dongcheng", contact_phone="13700000001"), now=MONDAY)
    for t in (followed, overruled):
        assert desk.post("/knowledge/dispatch/suggest", {"ticket": t.number}).status_code == 200
    assert DispatchLog.objects.filter(resolved_at__isnull=True).count() == 2
    cases.do_dispatch(followed.pk, people.dispatcher, deps["bj-water"].pk, now=MONDAY)
    cases.do_dispatch(overruled.pk, people.dispatcher, tree.xicheng.pk, now=MONDAY)
    r = desk.post("/knowledge/dispatch/outcome", {"ticket": followed.number})
    assert r.json_body["matched_top1"] is True and r.json_body["final_department"] == deps["bj-water"].pk
    from hotline.knowledge import tasks

    assert tasks.knowledge_job.call()["dispatch_logs_resolved"] == 1  # the other one, by the periodic job
    log = DispatchLog.objects.get(ticket=overruled)
    assert (log.matched_top1, log.matched_top3, log.final_department_id) == (False, False, tree.xicheng.pk)

    report = api_as(people.team_leader).get("/knowledge/dispatch/accuracy", {
        "bucket": "day", "since": (timezone.now() - dt.timedelta(days=1)).isoformat(), "until": (timezone.now() + dt.timedelta(days=1)).isoformat()}).json_body
    assert report["total"] == {"count": 2, "top1": 0.5, "top3": 0.5}
    assert report["by_source"]["model"]["count"] == 2
    assert report["model"]["examples"] == 400
    assert sum(p["count"] for p in report["series"]) == 2  # logged at the API's (real) clock
