"""Pages are Chinese by default and English when the user picks it (Django i18n,
compiled catalogue in src/hotline/locale/en)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_pages_are_chinese_by_default_and_english_after_switching(people: Any) -> None:
    c = Client()  # no Accept-Language: the default language
    c.post("/accounts/login/", {"username": "call_taker", "password": PASSWORD})
    text = c.get("/desk/").content.decode()
    assert "受理登记" in text and "诉求摘要" in text and 'lang="zh-CN"' in text
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/desk/"})
    assert r.status_code == 302 and r["Location"] == "/desk/"
    text = c.get("/desk/").content.decode()
    assert "Register an appeal" in text and "Save and dispatch" in text and 'lang="en"' in text
    assert "受理登记" not in text


def test_errors_next_to_fields_are_english_in_english(people: Any) -> None:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.post("/accounts/login/", {"username": "call_taker", "password": PASSWORD})
    r = c.post("/desk/", {"contact_phone": "", "source": "phone", "service_type": "complaint", "summary": "x", "content": "y"})
    assert r.status_code == 422 and "This field is required" in r.content.decode()
