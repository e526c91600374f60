"""Helpers for the knowledge tests: articles created and published through the
real actions (no direct model writes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hotline.knowledge import actions
from hotline.knowledge.models import Article

from tests.conftest import MONDAY


def article(editor: Any, title: str, *, body: str = "", answer: str = "", publish: bool = True, now: dt.datetime = MONDAY,
            **fields: Any) -> Article:
    data = {"kind": "faq", "title": title, "body": body, "answer": answer, **fields}
    created = actions.do_create_article(editor, data, now=now - dt.timedelta(days=30))
    if publish:
        actions.do_transition(editor, created.pk, "review", now=now - dt.timedelta(days=29))
        actions.do_transition(editor, created.pk, "publish", now=now - dt.timedelta(days=29))
    created.refresh_from_db()
    return created
