"""In Chromium: every visible input, select and textarea on every page (closed
<details> opened first) has an accessible name — a <label for>, a wrapping <label>,
aria-label or aria-labelledby with text — so screen readers announce every field."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import actions
from tests.conftest import ticket_input

pytestmark = pytest.mark.django_db(transaction=True)

UNNAMED = r"""() => {
  document.querySelectorAll("details").forEach(d => { d.open = true; });
  const text = s => (s || "").replace(/\s+/g, " ").trim();
  const named = el => {
    if (text(el.getAttribute("aria-label"))) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\s+/).some(id => document.getElementById(id) && text(document.getElementById(id).textContent))) return true;
    if (el.labels && Array.from(el.labels).some(l => text(l.textContent))) return true;
    return false;
  };
  const out = [];
  document.querySelectorAll("input, select, textarea").forEach(el => {
    if (el.type === "hidden") return;
    const r = el.getBoundingClientRect(), st = getComputedStyle(el);
    if (r.width === 0 && r.height === 0 || st.visibility === "hidden" || st.display === "none") return;
    if (!named(el)) out.push(el.outerHTML.slice(0, 160));
  });
  return {checked: document.querySelectorAll("input:not([type=hidden]), select, textarea").length, unnamed: out};
}"""


def check(s: Any, path: str) -> int:
    s.go(path)
    s.page.wait_for_load_state("networkidle")
    result = s.page.evaluate(UNNAMED)
    assert result["unnamed"] == [], (path, result["unnamed"])
    return int(result["checked"])


def test_every_field_of_every_page_has_an_accessible_name(people: Any, tree: Any, as_user: Any) -> None:
    registered = actions.do_create_ticket(people.call_taker, ticket_input())
    at_dept = actions.do_create_ticket(people.call_taker, ticket_input(summary="派往东华街道"))
    actions.do_dispatch(at_dept.pk, people.call_taker, tree.donghua.pk)
    actions.do_sign_for(at_dept.pk, people.handler)
    checked = 0
    anonymous = as_user(None)
    for path in ("/accounts/login/", "/portal/", "/portal/track/?code=XXXX&phone_tail=1234", "/portal/knowledge/"):
        checked += check(anonymous, path)
    s = as_user(people.call_taker)
    for path in ("/desk/", "/work/", "/search/", f"/tickets/{registered.pk}/"):
        checked += check(s, path)
    s = as_user(people.dispatcher)
    for path in ("/work/", f"/tickets/{at_dept.pk}/"):
        checked += check(s, path)
    s = as_user(people.handler)
    for path in ("/dept/", "/dept/?tab=handling", f"/tickets/{at_dept.pk}/"):
        checked += check(s, path)
    s = as_user(people.manager)
    checked += check(s, "/dept/?tab=handling")
    s = as_user(people.admin)
    for path in ("/manage/departments/", "/manage/users/", "/manage/parameters/", "/manage/holidays/",
                 "/manage/dictionary/category/", "/manage/deadline-rules/"):
        checked += check(s, path)
    s = as_user(people.auditor)
    checked += check(s, "/audit/")
    assert checked > 150, checked  # the check looked at the forms, not at empty pages
