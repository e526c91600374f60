"""热点: a category and its words that jump in the last day against the week before
are reported with example tickets; steady topics, however busy, are not."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.cases import actions as cases
from tests.conftest import ticket_input

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


def test_a_sudden_rise_is_hot_and_a_steady_flow_is_not(people, api_as):
    now = timezone.now()  # the endpoint reads the real clock
    n = 0

    def ticket(category: str, summary: str, content: str, at: dt.datetime) -> None:
        nonlocal n
        n += 1
        cases.do_create_ticket(people.call_taker, ticket_input(
            category=category, summary=summary, content=content, contact_phone=f"1390000{n:04d}", address=f"东华路{n}号"), now=at)

    for day in range(8):  # eight days of steady water outages and noise complaints
        for i in range(3):
            ticket("water.outage", "小区停水", "来电人反映小区停水未恢复供水。", now - day * DAY - (i + 1) * HOUR)
        for i in range(5):
            ticket("environment.noise", "商铺音响噪声扰民", "来电人反映楼下商铺音响噪声扰民。", now - day * DAY - (i + 4) * HOUR)
    ticket("gas.leak", "楼道燃气异味", "来电人反映楼道内燃气异味。", now - 3 * DAY)
    leaks = []
    for i in range(6):  # today: a burst of gas smell reports
        ticket("gas.leak", "楼道内燃气异味很重", "来电人反映楼道内有明显燃气异味，担心燃气泄漏。", now - (i + 1) * HOUR)
        leaks.append(n)

    r = api_as(people.team_leader).get("/knowledge/hot-topics", {"period": "day"})
    assert r.status_code == 200, r.json_body
    hot = r.json_body
    assert [c["category"]["code"] for c in hot["categories"]] == ["gas.leak"]
    gas = hot["categories"][0]
    assert gas["count"] == 6 and gas["baseline"] == round(1 / 7, 2) and gas["rise"] == 6.0
    assert len(gas["examples"]) == 3 and all("燃气" in e["summary"] for e in gas["examples"])
    terms = [t["term"] for t in hot["terms"]]
    assert "燃气" in terms and "停水" not in terms and "噪音" not in terms  # 噪声 folds to 噪音 (synonyms)
    assert all("燃气" in e["summary"] for e in hot["terms"][terms.index("燃气")]["examples"])

    week = api_as(people.supervisor).get("/knowledge/hot-topics", {"period": "week"})
    assert week.status_code == 200 and week.json_body["baseline_windows"] == 4
