"""Blacklist presets: 5 minutes ends after 5 minutes, 30 minutes after 30, permanent
never, custom at the chosen moment (an injected clock, no sleeping). Unblacklisting
ends it at once. The search filter counts only blacklists still running."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.directory import actions
from hotline.directory.models import Citizen
from tests.conftest import MONDAY, People

MINUTE = dt.timedelta(minutes=1)
SECOND = dt.timedelta(seconds=1)


def citizen(people: People, phone: str = "13700001111") -> Citizen:
    return actions.do_create_citizen(people.call_taker, {"phone": phone, "name": "孙先生"}, now=MONDAY)


@pytest.mark.parametrize(("preset", "minutes"), [("5min", 5), ("30min", 30)])
def test_timed_presets_expire_after_their_minutes(people: People, preset: str, minutes: int) -> None:
    c = actions.do_blacklist_citizen(people.team_leader, citizen(people).pk, preset, "反复恶意骚扰", now=MONDAY)
    assert c.blacklist_until == MONDAY + minutes * MINUTE
    assert c.is_blacklisted(MONDAY)
    assert c.is_blacklisted(MONDAY + minutes * MINUTE - SECOND)
    assert not c.is_blacklisted(MONDAY + minutes * MINUTE)
    assert not c.is_blacklisted(MONDAY + minutes * MINUTE + SECOND)


def test_permanent_does_not_expire_and_unblacklist_ends_it(people: People) -> None:
    c = actions.do_blacklist_citizen(people.call_taker, citizen(people).pk, "permanent", "辱骂话务员", now=MONDAY)
    assert c.blacklist_until is None
    assert c.is_blacklisted(MONDAY + dt.timedelta(days=3650))
    c = actions.do_unblacklist_citizen(people.call_taker, c.pk, now=MONDAY + MINUTE)
    assert not c.is_blacklisted(MONDAY + MINUTE) and c.blacklist_reason == ""


def test_custom_ends_at_the_chosen_moment(people: People) -> None:
    until = MONDAY + dt.timedelta(hours=2)
    c = actions.do_blacklist_citizen(people.dispatcher, citizen(people).pk, "custom", "占线", until=until, now=MONDAY)
    assert c.is_blacklisted(until - SECOND) and not c.is_blacklisted(until)


def test_the_search_filter_counts_only_running_blacklists(people: People) -> None:
    five = citizen(people, "13700002222")
    forever = citizen(people, "13700003333")
    citizen(people, "13700004444")
    actions.do_blacklist_citizen(people.call_taker, five.pk, "5min", "骚扰", now=MONDAY)
    actions.do_blacklist_citizen(people.call_taker, forever.pk, "permanent", "骚扰", now=MONDAY)

    def blacklisted(at: dt.datetime, flag: bool) -> set[int]:
        page = actions.search_citizens(people.call_taker, blacklisted=flag, now=at)
        return {c["id"] for c in page["items"]}

    assert blacklisted(MONDAY + MINUTE, True) == {five.pk, forever.pk}
    assert blacklisted(MONDAY + 6 * MINUTE, True) == {forever.pk}
    assert five.pk in blacklisted(MONDAY + 6 * MINUTE, False)


def test_the_api_answers_with_the_blacklist_state(people: People, api_as) -> None:  # type: ignore[no-untyped-def]
    c = citizen(people)
    client = api_as(people.call_taker)
    r = client.post(f"/directory/citizens/{c.pk}/blacklist", {"preset": "5min", "reason": "恶意占线"})
    assert r.status_code == 200, r.json_body
    assert r.json_body["blacklisted"] is True and r.json_body["blacklist_reason"] == "恶意占线"
    until = dt.datetime.fromisoformat(r.json_body["blacklist_until"])
    assert dt.timedelta(minutes=4) < until - dt.datetime.now(dt.timezone.utc) <= dt.timedelta(minutes=5)
    assert client.post(f"/directory/citizens/{c.pk}/blacklist", {"preset": "permanent", "reason": "升级"}).json_body["blacklist_until"] is None
