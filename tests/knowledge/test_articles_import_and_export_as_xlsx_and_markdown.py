"""A center brings its knowledge in: XLSX and Markdown imports create drafts
(validated, versioned, audited; one report line per row), and exports give back
what was imported."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from hotline.knowledge.models import Article, ArticleCategory, ArticleVersion

MARKDOWN = """\
---
title: 医保报销流程
kind: faq
category: 社会保障/医疗保险
visibility: public
keywords: 医保 报销
expires_at: 2027-12-31
---
住院费用的**医保报销**：

1. 出院时直接结算；
2. 或持发票到医保窗口办理。

<script>alert('x')</script>

## 标准答案

您好，住院医保报销可在出院时直接结算。

---
title: 市水务局职责
kind: 部门职责
owner_department: water
transfer_phone: 0571-86001234
---
城市供水、排水管理。

---
title: 坏的一条
kind: poem
---
没有这种类型。
"""


def _upload(api, name: str, data: bytes, **params):  # type: ignore[no-untyped-def]
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.client.post(f"/api/knowledge/articles/import?{query}", {"file": SimpleUploadedFile(name, data)}, headers=api.headers)


def test_markdown_import_makes_drafts_and_reports_each_article(people, api_as, tree):
    editor = api_as(people.team_leader)
    dry = _upload(editor, "kb.md", MARKDOWN.encode(), dry_run="true").json()
    assert (dry["valid"], dry["failed"], dry["imported"]) == (2, 1, 0)
    assert Article.objects.count() == 0

    r = _upload(editor, "kb.md", MARKDOWN.encode())
    assert r.status_code == 200, r.content
    report = r.json()
    assert (report["imported"], report["failed"]) == (2, 1)
    bad = [row for row in report["rows"] if not row["ok"]][0]
    assert bad["errors"][0]["field"] == "kind" and bad["row"] > 1

    faq = Article.objects.get(title="医保报销流程")
    assert faq.status == "draft" and faq.visibility == "public"
    assert "<strong>医保报销</strong>" in faq.body and "<ol>" in faq.body and "script" not in faq.body
    assert faq.answer == "您好，住院医保报销可在出院时直接结算。"
    assert faq.expires_at is not None and faq.expires_at.year == 2027
    medical = ArticleCategory.objects.get(name="医疗保险")
    assert faq.category_id == medical.pk and medical.parent.name == "社会保障"
    duty = Article.objects.get(title="市水务局职责")
    assert (duty.kind, duty.owner_department_id, duty.transfer_phone) == ("duty", tree.water.pk, "0571-86001234")
    assert ArticleVersion.objects.filter(article=faq).count() == 1


def test_markdown_and_xlsx_exports_round_trip(people, api_as, tree):
    editor = api_as(people.team_leader)
    _upload(editor, "kb.md", MARKDOWN.encode())
    md = editor.get("/knowledge/articles/export", {"format": "md"})
    assert md.status_code == 200 and md["Content-Type"].startswith("text/markdown")
    xlsx = editor.get("/knowledge/articles/export", {"format": "xlsx"})
    assert xlsx.status_code == 200
    rows = list(load_workbook(io.BytesIO(xlsx.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][:3] == ("标题", "类型", "分类")
    assert rows[1][:3] == ("医保报销流程", "常见问题", "社会保障/医疗保险")

    before = {a.title: (a.kind, a.answer, a.body, a.category_id, a.visibility, a.expires_at) for a in Article.objects.all()}
    Article.objects.all().delete()
    assert _upload(editor, "again.md", md.content).json()["imported"] == 2
    after = {a.title: (a.kind, a.answer, a.body, a.category_id, a.visibility, a.expires_at) for a in Article.objects.all()}
    assert after == before
    Article.objects.all().delete()
    assert _upload(editor, "again.xlsx", xlsx.content).json()["imported"] == 2
    after_xlsx = {a.title: (a.kind, a.answer, a.body, a.category_id, a.visibility, a.expires_at) for a in Article.objects.all()}
    assert after_xlsx == before


def test_bad_files_are_refused_with_a_reason(people, api_as):
    editor = api_as(people.team_leader)
    r = _upload(editor, "kb.pdf", b"%PDF")
    assert r.status_code == 422 and r.json()["errors"][0] == {"field": "file", "rule": "format",
                                                               "message": "send an .xlsx workbook or a .md Markdown file"}
    assert _upload(editor, "kb.xlsx", b"not a zip").json()["errors"][0]["rule"] == "xlsx"
    assert _upload(editor, "kb.md", "没有front matter".encode()).json()["errors"][0]["rule"] == "front_matter"
    assert _upload(editor, "kb.md", b"\xff\xfe\x00bad").json()["errors"][0]["rule"] == "utf8"
    wb = Workbook()
    wb.active.append(["名称", "内容"])
    out = io.BytesIO()
    wb.save(out)
    assert _upload(editor, "kb.xlsx", out.getvalue()).json()["errors"][0]["rule"] == "required_columns"
    assert _upload(api_as(people.call_taker), "kb.md", MARKDOWN.encode()).status_code == 403
