"""The ticket search (``cases.queries.search``) takes shortcuts for speed — per-half and
per-department pages merged in the database, substring tests without case folding for
words without letter case, the running statuses as literal SQL, capped counts. For every
bench-like filter, user and page it must return exactly the tickets, in the order, that
one plain, unoptimised query returns: ``visible_tickets`` + ``icontains`` + the colour
conditions + ``ORDER BY … OFFSET``, over generated tickets of every state."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db.models import Q, QuerySet

from hotline.accounts.models import User
from hotline.cases import access, deadlines, generate, queries
from hotline.cases.models import Ticket, TicketAssist
from hotline.directory.models import Category, Department, District
from tests.conftest import MONDAY

NOW = MONDAY + dt.timedelta(days=1)


@pytest.fixture
def generated(dictionary: None) -> None:
    generate.generate(600, now=MONDAY, seed=11, open_share=0.4, days=90, batch=200)


def plain(user: User, f: queries.TicketFilter) -> QuerySet[Ticket]:
    """The reference: the filters written the obvious way, no shortcut."""
    qs = access.visible_tickets(user, Ticket.objects.all())
    for word in (f.q or "").split()[:5]:
        qs = qs.filter(Q(summary__icontains=word) | Q(content__icontains=word) | Q(address__icontains=word))
    if f.created_from:
        qs = qs.filter(created_at__gte=f.created_from)
    if f.status:
        qs = qs.filter(status__in=f.status)
    if f.district:
        qs = qs.filter(district__code=f.district)
    if f.category:
        cat = Category.objects.get(code=f.category)
        qs = qs.filter(Q(category=cat) | Q(category__parent=cat))
    if f.lead_department:
        root = Department.objects.get(code=f.lead_department)
        qs = qs.filter(lead_department__path__startswith=root.path)
    if f.urgency:
        qs = qs.filter(urgency=f.urgency)
    if f.colour:
        qs = qs.filter(deadlines.colour_q(f.colour, NOW))
    key = f.sort.lstrip("-")
    direction = "-" if f.sort.startswith("-") else ""
    return qs.order_by(f"{direction}{key}", f"{direction}id")


def filters() -> list[dict[str, Any]]:
    district = District.objects.order_by("pk").values_list("code", flat=True).first()
    month_ago = NOW - dt.timedelta(days=30)
    return [
        {},
        {"status": ["dispatched", "signed", "handling"], "sort": "deadline"},
        {"colour": "red", "sort": "deadline"},
        {"colour": "yellow", "district": district},
        {"colour": "green", "sort": "-deadline"},
        {"category": "water", "created_from": month_ago},
        {"lead_department": "dongcheng", "status": ["handling", "signed"]},
        {"status": ["closed"], "district": district, "sort": "-closed_at"},
        {"q": "停水"},
        {"q": "噪音", "status": ["closed"]},
        {"q": "物业 电梯"},
        {"q": "水"},                # one character
        {"q": "路"},
        {"q": "供水管道"},          # four characters (trigram index on PostgreSQL)
        {"q": "KONE 电梯"},         # letters: case-insensitive
        {"urgency": "urgent", "sort": "-number"},
        {"status": ["closed"], "sort": "created_at"},
    ]


@pytest.mark.parametrize("username", ["dispatcher", "street_handler", "district_handler"])
def test_every_page_of_every_filter_matches_the_plain_query(generated: None, username: str, monkeypatch: Any) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 50)           # small caps so capped and exact counts both occur
    monkeypatch.setattr(queries, "FREE_TEXT_COUNT_CAP", 20)
    user = User.objects.filter(username=username).first()
    if user is None:  # the demo city has no district-level handler: make one for 东城区
        from hotline.accounts.models import Role
        from tests.conftest import make_user

        user = make_user(username, Role.DEPT_HANDLER, Department.objects.filter(name__startswith="东城区").order_by("depth").first())
    checked = 0
    for params in filters():
        for page_size in (7, 20):
            f = queries.TicketFilter(**params, page_size=page_size)
            expected = list(plain(user, f).values_list("pk", flat=True))
            cap = queries.FREE_TEXT_COUNT_CAP if f.q else queries.COUNT_CAP
            for page in range(1, len(expected) // page_size + 3):
                f.page = page
                _, count, capped, rows = queries.search(user, f, NOW)
                start = (page - 1) * page_size
                assert [t.pk for t in rows] == expected[start:start + page_size], (username, params, page)
                assert (count, capped) == ((cap, True) if len(expected) > cap else (len(expected), False)), (username, params)
                checked += 1
    assert checked > 50  # many pages compared, not a vacuous pass


def test_a_department_scope_pages_correctly_when_it_leads_and_assists(generated: None) -> None:
    """Tickets a department both leads and assists appear once, in order, on every page."""
    user = User.objects.get(username="street_handler")
    leads = Ticket.objects.filter(lead_department=user.department).order_by("pk")[:5]
    for t in leads:
        TicketAssist.objects.get_or_create(ticket=t, department=user.department)
    f = queries.TicketFilter(page_size=9)
    expected = list(plain(user, f).values_list("pk", flat=True))
    got: list[int] = []
    for page in range(1, len(expected) // 9 + 2):
        f.page = page
        got += [t.pk for t in queries.search(user, f, NOW)[3]]
    assert got == expected and len(set(got)) == len(got)
