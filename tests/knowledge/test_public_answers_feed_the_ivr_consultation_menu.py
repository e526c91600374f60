"""Public articles feed the IVR's consultation menu (自助咨询): published, current,
public FAQ/guide articles with a standard answer, most used first, keyed 1-9, the
answer as plain text for text-to-speech. Internal, expired, draft articles and
articles without an answer are never read to a caller."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from hotline.knowledge import actions
from tests.knowledge._kb import article


def test_the_menu_reads_public_current_answers_most_used_first(people, api_as):
    editor = people.team_leader
    now = timezone.now()
    yibao = article(editor, "医保报销怎么办理", visibility="public", now=now,
                    answer="<p>住院医保报销请携带发票、费用清单和出院小结，到医保经办窗口办理。详见 https://ybj.example.cn 。</p>")
    water = article(editor, "停水了怎么查询", visibility="public", kind="guide", now=now, transfer_phone="0571-12345",
                    answer="计划停水会提前24小时在供水公司网站和小区公告栏发布。" * 12)
    article(editor, "内部口径：停水补偿", visibility="internal", answer="内部口径不对外。", now=now)
    article(editor, "过期的供暖收费标准", visibility="public", answer="已废止的标准。", now=now,
            expires_at=(now - dt.timedelta(hours=1)).isoformat())
    article(editor, "草稿：公积金提取", visibility="public", answer="尚未发布。", publish=False, now=now)
    article(editor, "政策原文（无标准答案）", visibility="public", kind="policy", body="<p>全文。</p>", now=now)
    # 医保 answered three calls: it comes first.
    for _ in range(3):
        actions.do_record_usage(people.call_taker, yibao.pk, now=now)

    citizen = api_as(None)
    later = citizen.get("/knowledge/public/ivr-prompts")
    assert later.status_code == 200, later.json_body
    items = later.json_body["items"]
    assert [i["title"] for i in items] == ["医保报销怎么办理", "停水了怎么查询"]
    assert [i["key"] for i in items] == [1, 2]
    assert items[0]["text"] == "住院医保报销请携带发票、费用清单和出院小结，到医保经办窗口办理。详见 。"
    assert "<" not in items[0]["text"] and "http" not in items[0]["text"]
    # A long answer is cut at a sentence end, short enough to read aloud.
    assert len(items[1]["text"]) <= 300 and items[1]["text"].endswith("。")
    assert items[1]["transfer_phone"] == "0571-12345" and items[1]["id"] == water.pk


def test_bad_menu_parameters_are_named(db, api_as):
    citizen = api_as(None)
    for params, field, rule in [({"limit": 0}, "limit", "range"), ({"limit": 10}, "limit", "range"),
                                ({"category": 999999}, "category", "exists")]:
        r = citizen.get("/knowledge/public/ivr-prompts", params)
        assert r.status_code == 422 and r.json_body["errors"][0]["field"] == field and r.json_body["errors"][0]["rule"] == rule
