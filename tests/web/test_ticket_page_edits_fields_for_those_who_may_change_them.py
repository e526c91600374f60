"""修改工单 on the ticket page: offered to the roles and in the states of the
``update`` transition (registered/draft/returned, intake roles), saved through
``do_update_ticket`` (audited, one timeline event naming the changed fields); a
refused save keeps what was typed and shows the message next to the field; a stale
form (the ticket changed meanwhile) is refused without losing the typing."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.audit.models import AuditEntry
from hotline.cases import actions
from hotline.cases.models import Status, Ticket
from tests.conftest import ticket_input
from tests.web.test_pages_render_for_every_role_and_keep_typed_input import client_for

pytestmark = pytest.mark.django_db


def registered(people: Any) -> Ticket:
    return actions.do_create_ticket(people.call_taker, ticket_input(id_number="110101199001011234"))


def form_data(t: Ticket, **changes: Any) -> dict[str, Any]:
    data = {
        "version": str(t.version), "citizen_name": t.citizen_name, "contact_phone": t.contact_phone, "id_number": "",
        "source": t.source.code, "service_type": t.service_type.code, "category": t.category.code if t.category else "",
        "urgency": t.urgency, "district": "", "address": t.address, "longitude": "", "latitude": "",
        "summary": t.summary, "content": t.content, "leader_instruction": "",
    }
    data.update(changes)
    return data


def test_the_edit_form_shows_every_field_with_the_current_values(people: Any) -> None:
    t = registered(people)
    text = client_for(people.call_taker).get(f"/tickets/{t.pk}/").content.decode()
    assert 'id="edit-ticket"' in text
    for name in ("citizen_name", "contact_phone", "id_number", "source", "service_type", "category", "urgency", "district",
                 "address", "longitude", "latitude", "summary", "content", "leader_instruction", "confidential"):
        assert f'name="{name}"' in text, name
    assert 'value="东城区东华路88号"' in text and 'value="110101199001011234"' in text


@pytest.mark.parametrize("who", ["call_taker", "team_leader", "dispatcher"])
def test_intake_roles_change_fields_audited_with_one_timeline_event(people: Any, who: str) -> None:
    t = registered(people)
    user = getattr(people, who)
    r = client_for(user).post(f"/tickets/{t.pk}/edit/", form_data(
        t, summary="东华路88号小区停水三天", urgency="urgent", address="东城区东华路90号", leader_instruction="请水务局加快处理",
        longitude="116.4", latitude="39.9", confidential="on"))
    assert r.status_code == 302, r.content.decode()[:2000]
    t.refresh_from_db()
    assert (t.summary, t.urgency, t.address, t.leader_instruction, t.confidential) == (
        "东华路88号小区停水三天", "urgent", "东城区东华路90号", "请水务局加快处理", True)
    assert str(t.longitude) == "116.400000" and t.status == Status.REGISTERED
    event = t.events.filter(kind="update").get()
    assert event.actor == user
    assert set(event.data["fields"]) == {"summary", "urgency", "address", "leader_instruction", "longitude", "latitude", "confidential"}
    entry = AuditEntry.objects.filter(action="ticket.update", object_id=str(t.pk)).get()
    assert {c["field"] for c in entry.changes} >= {"summary", "urgency", "address"}


def test_a_dispatcher_gets_no_id_number_field(people: Any) -> None:
    t = registered(people)
    text = client_for(people.dispatcher).get(f"/tickets/{t.pk}/").content.decode()
    assert 'name="id_number"' not in text and "110101199001011234" not in text


def test_a_refused_save_keeps_the_typing_and_names_the_field_in_chinese(people: Any) -> None:
    t = registered(people)
    r = client_for(people.call_taker).post(f"/tickets/{t.pk}/edit/", form_data(
        t, summary="", contact_phone="12ab", address="东城区东华路99号新地址", longitude="500"))
    assert r.status_code == 422
    text = r.content.decode()
    assert 'id="err-summary"' in text and "此项必填" in text
    assert 'id="err-contact_phone"' in text and "电话号码应为5-20位数字" in text
    assert 'id="err-longitude"' in text and "超出允许范围" in text
    assert 'value="东城区东华路99号新地址"' in text and 'value="12ab"' in text
    assert '<details class="edit" id="edit-ticket" open>' in text
    t.refresh_from_db()
    assert t.address == "东城区东华路88号" and not t.events.filter(kind="update").exists()


def test_no_edit_after_dispatch_and_a_posted_edit_is_refused(people: Any, tree: Any) -> None:
    t = registered(people)
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    t.refresh_from_db()
    c = client_for(people.call_taker)
    assert 'id="edit-ticket"' not in c.get(f"/tickets/{t.pk}/").content.decode()
    r = c.post(f"/tickets/{t.pk}/edit/", form_data(t, summary="改了"))
    assert r.status_code == 409
    t.refresh_from_db()
    assert t.summary != "改了"


def test_a_department_handler_may_not_edit_even_a_visible_ticket(people: Any, tree: Any) -> None:
    t = registered(people)
    actions.do_dispatch(t.pk, people.call_taker, tree.donghua.pk)
    actions.do_sign_for(t.pk, people.handler)
    actions.do_request_return(t.pk, people.handler, "不属于本单位职责")
    actions.do_accept_return(t.pk, people.dispatcher)
    t.refresh_from_db()
    assert t.status == Status.RETURNED
    h = client_for(people.handler)
    assert h.post(f"/tickets/{t.pk}/edit/", form_data(t, summary="改了")).status_code in (403, 404)
    assert client_for(people.west_handler).post(f"/tickets/{t.pk}/edit/", form_data(t, summary="改了")).status_code == 404
    # a returned ticket is editable again by the center before re-dispatch
    r = client_for(people.dispatcher).post(f"/tickets/{t.pk}/edit/", form_data(t, category=""))
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.category is None and t.summary != "改了"


def test_a_stale_form_is_refused_and_keeps_what_was_typed(people: Any) -> None:
    t = registered(people)
    old_version = t.version
    actions.do_update_ticket(t.pk, people.team_leader, {"address": "别人改的地址"})
    r = client_for(people.call_taker).post(f"/tickets/{t.pk}/edit/", form_data(t, version=str(old_version), summary="我的新摘要"))
    assert r.status_code == 409
    text = r.content.decode()
    assert "已被他人修改" in text and 'value="我的新摘要"' in text
    t.refresh_from_db()
    assert t.summary != "我的新摘要" and t.address == "别人改的地址"


def test_saving_unchanged_fields_writes_nothing(people: Any) -> None:
    t = registered(people)
    r = client_for(people.call_taker).post(f"/tickets/{t.pk}/edit/", form_data(t))
    assert r.status_code == 302
    assert not t.events.filter(kind="update").exists()
