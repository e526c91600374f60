"""In Chromium: the administrator renames a department through the form and the
change shows at once; every admin page and the auditor's log viewer fit 1366×768
(screenshots for review)."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.directory.models import Department

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_renames_a_department_and_every_admin_page_fits(people: Any, tree: Any, as_user: Any) -> None:
    admin = as_user(people.admin)
    page = admin.page
    admin.go("/")
    assert "/manage/departments/" in page.url
    page.get_by_role("link", name="市水务局").click()
    page.get_by_label("名称", exact=True).fill("滨江市水务局(市排水管理处)")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("已保存:滨江市水务局(市排水管理处)").wait_for()
    assert Department.objects.get(pk=tree.water.pk).name == "滨江市水务局(市排水管理处)"
    admin.no_horizontal_scroll()
    admin.shot("admin-departments")
    for path, name in (("/manage/users/", "admin-users"), ("/manage/parameters/", "admin-parameters"), ("/manage/holidays/?year=2026", "admin-holidays"),
                       ("/manage/dictionary/category/", "admin-dictionary"), ("/manage/deadline-rules/", "admin-deadline-rules")):
        admin.go(path)
        admin.no_horizontal_scroll()
        admin.shot(name)

    auditor = as_user(people.auditor)
    auditor.go("/")
    assert "/audit/" in auditor.page.url
    auditor.page.get_by_text("department.update").first.wait_for()
    auditor.no_horizontal_scroll()
    auditor.shot("audit-log")
