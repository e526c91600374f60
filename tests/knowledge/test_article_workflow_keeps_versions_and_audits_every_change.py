"""Articles go draft → reviewed → published → retired through one transition
table; every change makes a version (who changed what) and an audit row; only
editors publish; department users may propose their own duty article."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.audit.models import AuditEntry
from hotline.knowledge import actions
from hotline.knowledge.models import ArticleStatus, ArticleVersion
from hotline.lib.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from tests.conftest import MONDAY

HOUR = dt.timedelta(hours=1)


def test_the_full_workflow_with_versions_and_audit_rows(people):
    editor = people.team_leader
    a = actions.do_create_article(editor, {"kind": "guide", "title": "居住证办理指南", "body": "<p>材料：身份证。</p>"}, now=MONDAY)
    assert (a.status, a.version) == (ArticleStatus.DRAFT, 1)
    a = actions.do_update_article(editor, a.pk, {"body": "<p>材料：身份证、租房合同。</p>"}, comment="补充材料", now=MONDAY + HOUR)
    assert a.version == 2
    for step in ("review", "publish", "retire", "revise"):
        a = actions.do_transition(people.admin, a.pk, step, now=MONDAY + 2 * HOUR)
    assert (a.status, a.version) == (ArticleStatus.DRAFT, 6)

    versions = list(ArticleVersion.objects.filter(article=a).order_by("version"))
    assert [v.version for v in versions] == [1, 2, 3, 4, 5, 6]
    assert [v.status for v in versions] == ["draft", "draft", "reviewed", "published", "retired", "draft"]
    body_change = versions[1].changes
    assert body_change == [{"field": "body", "old": "<p>材料：身份证。</p>", "new": "<p>材料：身份证、租房合同。</p>"}]
    assert (versions[1].changed_by_name, versions[1].comment) == ("team_leader", "补充材料")
    assert versions[3].changed_by_name == "admin"

    audit = list(AuditEntry.objects.filter(object_type="knowledge.article", object_id=str(a.pk)).order_by("id"))
    assert [e.action for e in audit] == ["article.create", "article.update", "article.review", "article.publish",
                                         "article.retire", "article.revise"]
    assert audit[3].changes == [{"field": "status", "old": "reviewed", "new": "published"}]


def test_versions_are_append_only(people):
    a = actions.do_create_article(people.team_leader, {"kind": "faq", "title": "问答"}, now=MONDAY)
    version = ArticleVersion.objects.get(article=a)
    version.title = "改写历史"
    with pytest.raises(PermissionError):
        version.save()


def test_illegal_steps_are_refused_with_the_allowed_actions(people):
    editor = people.team_leader
    a = actions.do_create_article(editor, {"kind": "faq", "title": "问答"}, now=MONDAY)
    with pytest.raises(IllegalTransition) as exc:
        actions.do_transition(editor, a.pk, "publish", now=MONDAY)
    assert exc.value.current == "draft" and "review" in exc.value.allowed
    actions.do_transition(editor, a.pk, "review", now=MONDAY)
    with pytest.raises(InvalidInput) as bad:
        actions.do_transition(editor, a.pk, "send_back", now=MONDAY)
    assert bad.value.errors[0]["field"] == "comment"
    with pytest.raises(InvalidInput):
        actions.do_transition(editor, a.pk, "teleport", now=MONDAY)
    actions.do_transition(editor, a.pk, "retire", now=MONDAY)
    with pytest.raises(IllegalTransition):
        actions.do_update_article(editor, a.pk, {"title": "新标题"}, now=MONDAY)


def test_a_stale_version_is_a_conflict(people):
    editor = people.team_leader
    a = actions.do_create_article(editor, {"kind": "faq", "title": "问答"}, now=MONDAY)
    actions.do_update_article(editor, a.pk, {"title": "问答一"}, version=1, now=MONDAY)
    with pytest.raises(Conflict):
        actions.do_update_article(people.admin, a.pk, {"title": "问答二"}, version=1, now=MONDAY)


def test_who_may_write_and_publish(people, tree):
    with pytest.raises(Forbidden):
        actions.do_create_article(people.call_taker, {"kind": "faq", "title": "问答"}, now=MONDAY)
    with pytest.raises(Forbidden):
        actions.do_create_article(people.handler, {"kind": "faq", "title": "问答"}, now=MONDAY)
    with pytest.raises(Forbidden):
        actions.do_create_article(people.handler, {"kind": "duty", "title": "水务局职责", "owner_department": tree.water.pk}, now=MONDAY)
    duty = actions.do_create_article(people.handler, {"kind": "duty", "title": "东华街道职责", "owner_department": tree.donghua.pk,
                                                      "transfer_phone": "0571-81600000"}, now=MONDAY)
    actions.do_update_article(people.handler, duty.pk, {"body": "<p>辖区市容、物业。</p>"}, now=MONDAY)
    # Another department's unpublished draft does not exist for them.
    with pytest.raises(NotFound):
        actions.do_update_article(people.water_handler, duty.pk, {"body": "<p>改别人的。</p>"}, now=MONDAY)
    with pytest.raises(Forbidden):
        actions.do_transition(people.handler, duty.pk, "review", now=MONDAY)
    actions.do_transition(people.team_leader, duty.pk, "review", now=MONDAY)
    # Once reviewed, the department's draft is the editors' to change.
    with pytest.raises(Forbidden):
        actions.do_update_article(people.handler, duty.pk, {"body": "<p>再改。</p>"}, now=MONDAY)


def test_bad_fields_are_named_with_their_rule(people):
    with pytest.raises(InvalidInput) as exc:
        actions.do_create_article(people.team_leader, {"kind": "poem", "title": "", "transfer_phone": "call me",
                                                       "expires_at": "next week", "review_remind_days": 999, "colour": "red"},
                                  now=MONDAY)
    got = {(e["field"], e["rule"]) for e in exc.value.errors}
    assert got == {("kind", "choice"), ("title", "required"), ("transfer_phone", "phone_format"), ("expires_at", "datetime"),
                   ("review_remind_days", "range"), ("colour", "unknown_field")}
    with pytest.raises(InvalidInput) as dates:
        actions.do_create_article(people.team_leader, {"kind": "faq", "title": "t", "effective_at": "2026-12-01",
                                                       "expires_at": "2026-11-01"}, now=MONDAY)
    assert dates.value.errors[0]["rule"] == "after_effective_at"


def test_rich_text_is_sanitised(people):
    a = actions.do_create_article(people.team_leader, {
        "kind": "guide", "title": "指南",
        "body": '<p onclick="x()">办理<script>alert(1)</script><a href="javascript:evil()">链接</a><a href="https://www.gov.cn">政府网</a></p>',
    }, now=MONDAY)
    assert a.body == '<p>办理<a>链接</a><a href="https://www.gov.cn">政府网</a></p>'


def test_review_reminders_fire_once_before_expiry(people):
    editor = people.team_leader
    a = actions.do_create_article(editor, {"kind": "policy", "title": "临时救助办法", "expires_at": (MONDAY + dt.timedelta(days=20)).isoformat(),
                                           "review_remind_days": 30}, now=MONDAY)
    later = actions.do_create_article(editor, {"kind": "policy", "title": "长期办法", "expires_at": (MONDAY + dt.timedelta(days=200)).isoformat()},
                                      now=MONDAY)
    for x in (a, later):
        actions.do_transition(editor, x.pk, "review", now=MONDAY)
        actions.do_transition(editor, x.pk, "publish", now=MONDAY)
    assert actions.do_review_reminders(MONDAY) == [a.pk]
    assert actions.do_review_reminders(MONDAY + HOUR) == []
    assert AuditEntry.objects.filter(action="article.review_reminder", object_id=str(a.pk)).count() == 1
    # the editor gets one personal reminder (日程提醒), due at once: it pops up on their pages
    from hotline.web.models import Reminder

    reminders = list(Reminder.objects.filter(owner=editor))
    assert len(reminders) == 1 and reminders[0].due_at == MONDAY and reminders[0].done_at is None
    assert "临时救助办法" in reminders[0].text and str(a.pk) in reminders[0].text
