"""Validity: before an article expires (its ``review_remind_days``), the periodic
knowledge job raises a review reminder once (audited) and the editors' review list
shows it; extending the expiry clears the reminder. Call-takers do not get the list."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.audit.models import AuditEntry
from hotline.knowledge import tasks
from hotline.knowledge.models import Article
from tests.knowledge._kb import article


def test_the_job_reminds_once_and_editors_see_the_list(people, api_as):
    editor = people.team_leader
    now = timezone.now()
    soon = article(editor, "临时救助办法", kind="policy", now=now, expires_at=(now + dt.timedelta(days=20)).isoformat(),
                   review_remind_days=30)
    article(editor, "长期办法", kind="policy", now=now, expires_at=(now + dt.timedelta(days=200)).isoformat())
    article(editor, "无期限办法", kind="policy", now=now)

    assert tasks.knowledge_job.call()["review_reminders"] == 1
    assert Article.objects.get(pk=soon.pk).reminded_at is not None
    assert tasks.knowledge_job.call()["review_reminders"] == 0  # once per expiry date
    assert AuditEntry.objects.filter(action="article.review_reminder", object_id=str(soon.pk)).count() == 1

    r = api_as(editor).get("/knowledge/articles/review-due")
    assert r.status_code == 200
    assert [(a["title"], a["expired"], a["reminded_at"] is not None) for a in r.json_body] == [("临时救助办法", False, True)]
    assert api_as(people.call_taker).get("/knowledge/articles/review-due").status_code == 403

    # The editor reviews it and extends the validity: no longer due, reminder cleared.
    r = api_as(editor).patch(f"/knowledge/articles/{soon.pk}", {"expires_at": (now + dt.timedelta(days=365)).isoformat(),
                                                               "comment": "复核后延期"})
    assert r.status_code == 200, r.json_body
    assert Article.objects.get(pk=soon.pk).reminded_at is None
    assert api_as(editor).get("/knowledge/articles/review-due").json_body == []
    assert tasks.knowledge_job.call()["review_reminders"] == 0
