"""The article endpoints end to end: create, edit, workflow, versions, attachments,
staff search with highlighting, and the public (no login) search and article."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.audit.models import AuditEntry


def test_an_editor_writes_publishes_and_a_citizen_finds_it_without_login(people, api_as, tree):
    editor = api_as(people.team_leader)
    r = editor.post("/knowledge/articles", {
        "kind": "faq", "title": "医保报销需要哪些材料", "visibility": "public",
        "body": "<p>住院医保报销需提供发票、费用清单、出院小结。</p>",
        "answer": "住院医保报销请准备发票、费用清单和出院小结，到医保窗口办理。",
        "owner_department": tree.water.code,
    })
    assert r.status_code == 201, r.json_body
    article = r.json_body
    assert (article["status"], article["version"], article["current"]) == ("draft", 1, False)
    assert "edit" in article["allowed_actions"] and "review" in article["allowed_actions"]

    r = editor.patch(f"/knowledge/articles/{article['id']}", {"keywords": "医保 报销 材料", "version": 1, "comment": "加关键词"})
    assert r.status_code == 200 and r.json_body["version"] == 2
    assert editor.post(f"/knowledge/articles/{article['id']}/workflow/review").status_code == 200
    r = editor.post(f"/knowledge/articles/{article['id']}/workflow/publish")
    assert r.status_code == 200 and r.json_body["status"] == "published" and r.json_body["current"]

    versions = editor.get(f"/knowledge/articles/{article['id']}/versions").json_body
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert versions[2]["changes"][0]["field"] == "keywords" and versions[2]["comment"] == "加关键词"

    citizen = api_as(None)
    r = citizen.get("/knowledge/public/search", {"q": "医疗保险报销要带什么"})
    assert r.status_code == 200
    assert [i["title"] for i in r.json_body["items"]] == ["医保报销需要哪些材料"]
    item = r.json_body["items"][0]
    assert "<mark>" in item["title_html"]
    assert "status" not in item and "use_count" not in item  # no internal fields for citizens
    r = citizen.get(f"/knowledge/public/articles/{article['id']}")
    assert r.status_code == 200 and r.json_body["answer"].startswith("住院医保报销")

    staff = api_as(people.call_taker).get("/knowledge/search", {"q": "医保报销"})
    assert staff.status_code == 200 and staff.json_body["items"][0]["id"] == article["id"]
    assert "医保" in staff.json_body["words"]


def test_internal_and_unpublished_articles_are_not_public(people, api_as):
    editor = api_as(people.team_leader)
    internal = editor.post("/knowledge/articles", {"kind": "faq", "title": "内部口径：停水答复", "body": "<p>停水答复口径。</p>"}).json_body
    editor.post(f"/knowledge/articles/{internal['id']}/workflow/review")
    editor.post(f"/knowledge/articles/{internal['id']}/workflow/publish")
    draft = editor.post("/knowledge/articles", {"kind": "faq", "title": "停水草稿", "visibility": "public"}).json_body
    citizen = api_as(None)
    assert citizen.get("/knowledge/public/search", {"q": "停水"}).json_body["items"] == []
    assert citizen.get(f"/knowledge/public/articles/{internal['id']}").status_code == 404
    assert citizen.get(f"/knowledge/public/articles/{draft['id']}").status_code == 404
    # Staff see the published internal article but not the draft.
    call_taker = api_as(people.call_taker)
    assert call_taker.get(f"/knowledge/articles/{internal['id']}").status_code == 200
    assert call_taker.get(f"/knowledge/articles/{draft['id']}").status_code == 404
    # Staff endpoints need a login.
    assert citizen.get("/knowledge/search", {"q": "停水"}).status_code == 401


def test_attachments_are_checked_stored_downloaded_and_audited(people, api_as):
    editor = api_as(people.team_leader)
    a = editor.post("/knowledge/articles", {"kind": "guide", "title": "居住证办理指南"}).json_body
    pdf = SimpleUploadedFile("申请表.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    r = editor.client.post(f"/api/knowledge/articles/{a['id']}/attachments", {"file": pdf}, headers=editor.headers)
    assert r.status_code == 201, r.content
    att = r.json()
    r = editor.client.get(f"/api/knowledge/articles/{a['id']}/attachments/{att['id']}", headers=editor.headers)
    assert r.status_code == 200 and b"".join(r.streaming_content) == b"%PDF-1.4 test"
    exe = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/x-msdownload")
    r = editor.client.post(f"/api/knowledge/articles/{a['id']}/attachments", {"file": exe}, headers=editor.headers)
    assert r.status_code == 422 and r.json()["errors"][0] == {"field": "file", "rule": "content_type",
                                                               "message": "files of type application/x-msdownload are not accepted"}
    assert AuditEntry.objects.filter(action="article.attach", object_id=str(a["id"])).count() == 1
    # A call-taker may not attach to an article.
    r = api_as(people.call_taker).client.post(f"/api/knowledge/articles/{a['id']}/attachments",
                                               {"file": SimpleUploadedFile("a.pdf", b"%PDF", content_type="application/pdf")},
                                               headers=api_as(people.call_taker).headers)
    assert r.status_code == 404  # the draft does not exist for a call-taker


def test_editors_browse_by_status_and_others_only_see_current(people, api_as):
    editor = api_as(people.team_leader)
    for title in ("甲", "乙"):
        editor.post("/knowledge/articles", {"kind": "faq", "title": title})
    r = editor.get("/knowledge/articles", {"status": "draft", "validity": "all"})
    assert r.status_code == 200 and r.json_body["count"] == 2
    r = api_as(people.call_taker).get("/knowledge/articles", {"status": "draft", "validity": "all"})
    assert r.json_body["count"] == 0
