"""Saved searches: a user names the current Search filters, finds them again as a
link, overwrites them by name, deletes them; other users neither see nor delete
them; only known filter keys are stored."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.web.models import SavedSearch
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert c.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    return c


def test_save_find_overwrite_and_delete_a_search(people: Any) -> None:
    c = client_for(people.dispatcher)
    r = c.post("/search/save/", {"name": "东城超期件", "query": "colour=red&district=dongcheng&evil=1&sort=deadline"})
    assert r.status_code == 302
    saved = SavedSearch.objects.get()
    assert saved.owner == people.dispatcher and saved.query == "colour=red&district=dongcheng&sort=deadline"
    page = c.get("/search/").content.decode()
    assert "东城超期件" in page and "?colour=red&amp;district=dongcheng&amp;sort=deadline" in page
    c.post("/search/save/", {"name": "东城超期件", "query": "colour=yellow"})
    assert SavedSearch.objects.get().query == "colour=yellow"

    other = client_for(people.supervisor)
    assert "东城超期件" not in other.get("/search/").content.decode()
    assert other.post(f"/search/saved/{saved.pk}/delete/").status_code == 404
    assert SavedSearch.objects.exists()
    c.post(f"/search/saved/{saved.pk}/delete/")
    assert not SavedSearch.objects.exists()


def test_a_search_needs_a_name(people: Any) -> None:
    c = client_for(people.dispatcher)
    r = c.post("/search/save/", {"name": "  ", "query": "colour=red"}, follow=True)
    assert "此项必填" in r.content.decode()
    assert not SavedSearch.objects.exists()
