"""Import and export of articles, so a center can bring its existing knowledge in.

XLSX: one sheet, the first row holds the column names (``HEADERS``, Chinese, as in
the export). Markdown: one file with any number of articles, each opened by a
front-matter block::

    ---
    title: 医保报销流程
    kind: faq            (code or Chinese label)
    category: 社会保障/医疗保险   (path of names; missing nodes are created)
    owner_department: bj-medical   (code or name)
    visibility: public
    keywords: 医保 报销
    effective_at: 2026-01-01
    expires_at: 2027-12-31
    transfer_phone: 0571-86047788
    ---
    正文 in Markdown (HTML inside is kept, then sanitised) …

    ## 标准答案
    the standard answer (the rest of the article)

Every imported article becomes a **draft** through ``actions.do_create_article``
(so it is validated, versioned and audited, and goes through review before anyone
sees it). Rows are independent: the report lists each row's outcome; ``dry_run``
validates everything and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from hotline.accounts.models import User
from hotline.directory.models import Department
from hotline.knowledge import access, actions
from hotline.knowledge.models import Article, ArticleCategory, ArticleKind, ArticleStatus, Visibility
from hotline.lib.errors import HotlineError, InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 20_000
ANSWER_HEADING = "## 标准答案"

#: column title -> field
HEADERS = {
    "标题": "title", "类型": "kind", "分类": "category", "主管部门": "owner_department", "转接电话": "transfer_phone",
    "可见范围": "visibility", "关键词": "keywords", "标准答案": "answer", "正文": "body", "生效时间": "effective_at",
    "失效时间": "expires_at", "到期前提醒天数": "review_remind_days", "状态": "status", "版本": "version",
}
EXPORT_ONLY = {"status", "version"}
KIND_BY_LABEL = {str(k.label): k.value for k in ArticleKind} | {k.value: k.value for k in ArticleKind}
VISIBILITY_BY_LABEL = {str(v.label): v.value for v in Visibility} | {v.value: v.value for v in Visibility}


class _DryRun(Exception):
    pass


# --- export -----------------------------------------------------------------------------------


def _articles(user: User, status: str | None) -> Any:
    access.require(user, access.EDITOR_ROLES, "export knowledge articles")
    qs = Article.objects.select_related("category", "owner_department").order_by("id")
    if status:
        statuses = status.split(",")
        for s in statuses:
            if s not in ArticleStatus.values:
                raise InvalidInput("status", "choice", f"status must be among {ArticleStatus.values}")
        qs = qs.filter(status__in=statuses)
    return qs


def category_path_names(c: ArticleCategory | None) -> str:
    names = []
    while c is not None:
        names.append(c.name)
        c = c.parent
    return "/".join(reversed(names))


def _local(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def _row(a: Article) -> dict[str, Any]:
    return {"title": a.title, "kind": str(ArticleKind(a.kind).label), "category": category_path_names(a.category),
            "owner_department": a.owner_department.code if a.owner_department else "", "transfer_phone": a.transfer_phone,
            "visibility": str(Visibility(a.visibility).label), "keywords": a.keywords, "answer": a.answer, "body": a.body,
            "effective_at": _local(a.effective_at), "expires_at": _local(a.expires_at), "review_remind_days": a.review_remind_days,
            "status": str(ArticleStatus(a.status).label), "version": a.version}


def export_xlsx(user: User, *, status: str | None = None) -> bytes:
    articles = _articles(user, status)  # access and input first: an abandoned workbook leaks
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("知识库")
    ws.append(list(HEADERS))
    for a in articles.iterator(chunk_size=500):
        row = _row(a)
        ws.append([row[f] for f in HEADERS.values()])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_markdown(user: User, *, status: str | None = None) -> str:
    parts = []
    for a in _articles(user, status).iterator(chunk_size=500):
        row = _row(a)
        meta = ["---", f"title: {_one_line(a.title)}", f"kind: {a.kind}"]
        for name in ("category", "owner_department", "keywords", "transfer_phone", "effective_at", "expires_at"):
            if row[name]:
                meta.append(f"{name}: {_one_line(str(row[name]))}")
        meta += [f"visibility: {a.visibility}", f"review_remind_days: {a.review_remind_days}", "---", ""]
        body = a.body.strip()
        text = "\n".join(meta) + (body + "\n" if body else "")
        if a.answer:
            text += f"\n{ANSWER_HEADING}\n\n{a.answer.strip()}\n"
        parts.append(text)
    return "\n".join(parts)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def export_response(user: User, fmt: str, *, status: str | None = None, now: dt.datetime) -> HttpResponse:
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    if fmt == "xlsx":
        resp = HttpResponse(export_xlsx(user, status=status),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        resp["Content-Disposition"] = f'attachment; filename="knowledge-{stamp}.xlsx"'
        return resp
    if fmt in ("md", "markdown"):
        resp = HttpResponse(export_markdown(user, status=status).encode("utf-8"), content_type="text/markdown; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="knowledge-{stamp}.md"'
        return resp
    raise InvalidInput("format", "choice", "format must be xlsx or md")


# --- import -----------------------------------------------------------------------------------------


def parse_xlsx(data: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InvalidInput("file", "xlsx", "the file is not a readable XLSX workbook") from exc
    rows = wb.worksheets[0].iter_rows(values_only=True)
    header = next(rows, None)
    if not header:
        raise InvalidInput("file", "header_row", "the first row must hold the column names")
    fields = [HEADERS.get(str(h).strip()) if h is not None else None for h in header]
    if "title" not in fields or "kind" not in fields:
        raise InvalidInput("file", "required_columns", "the columns 标题 and 类型 are required")
    out = []
    for number, row in enumerate(rows, start=2):
        if row is None or all(v in (None, "") for v in row):
            continue
        if len(out) >= MAX_ROWS:
            raise InvalidInput("file", "max_rows", f"at most {MAX_ROWS} articles per import")
        out.append((number, {f: v for f, v in zip(fields, row, strict=False) if f and f not in EXPORT_ONLY}))
    wb.close()
    return out


_FRONT_KEY = re.compile(r"^([a-z_]+):\s?(.*)$")


def parse_markdown(text: str) -> list[tuple[int, dict[str, Any]]]:
    """Articles of a Markdown file; the number is the line of each front matter."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    lines = text.replace("\r\n", "\n").split("\n")
    starts = [i for i, line in enumerate(lines)
              if line.strip() == "---" and i + 1 < len(lines) and _FRONT_KEY.match(lines[i + 1])]
    if not starts:
        raise InvalidInput("file", "front_matter", "no article found: each article starts with a '---' front-matter block")
    out = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        meta: dict[str, Any] = {}
        i = start + 1
        while i < end and lines[i].strip() != "---":
            m = _FRONT_KEY.match(lines[i])
            if m:
                meta[m.group(1)] = m.group(2).strip()
            i += 1
        body = "\n".join(lines[i + 1:end]).strip()
        answer = ""
        if ANSWER_HEADING in body:
            body, answer = (part.strip() for part in body.split(ANSWER_HEADING, 1))
        meta["body"] = md.render(body) if body else ""
        meta["answer"] = answer
        if len(out) >= MAX_ROWS:
            raise InvalidInput("file", "max_rows", f"at most {MAX_ROWS} articles per import")
        out.append((start + 1, meta))
    return out


def _category(actor: User, path: str, *, create: bool) -> int | None:
    names = [p.strip() for p in re.split(r"[/／>]", path or "") if p.strip()]
    parent: ArticleCategory | None = None
    for name in names:
        node = ArticleCategory.objects.filter(name=name, parent=parent).first()
        if node is None:
            if not create:
                return None
            node = actions.do_create_category(actor, name, parent.pk if parent else None)
        parent = node
    return parent.pk if parent else None


def _department(value: Any) -> Any:
    if value in (None, ""):
        return None
    text = str(value).strip()
    dept = Department.objects.filter(code=text).first() or Department.objects.filter(name=text).first()
    return dept.pk if dept else text  # an unknown value: do_create_article names it


def _fields(actor: User, values: dict[str, Any], *, create_categories: bool) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in ("title", "keywords", "answer", "transfer_phone"):
        if values.get(name) not in (None, ""):
            data[name] = str(values[name])
    body = values.get("body")
    if body not in (None, ""):
        body = str(body)
        data["body"] = body if "<" in body else "".join(f"<p>{p}</p>" for p in body.split("\n") if p.strip())
    kind = str(values.get("kind") or "").strip()
    data["kind"] = KIND_BY_LABEL.get(kind, kind)
    if values.get("visibility") not in (None, ""):
        vis = str(values["visibility"]).strip()
        data["visibility"] = VISIBILITY_BY_LABEL.get(vis, vis)
    for name in ("effective_at", "expires_at"):
        v = values.get(name)
        if v not in (None, ""):
            data[name] = v if isinstance(v, dt.datetime) else str(v).strip().replace("/", "-").replace(" ", "T", 1)
    if values.get("review_remind_days") not in (None, ""):
        try:
            data["review_remind_days"] = int(values["review_remind_days"])
        except (TypeError, ValueError):
            raise InvalidInput("review_remind_days", "integer", "review_remind_days must be a whole number") from None
    if values.get("owner_department") not in (None, ""):
        data["owner_department"] = _department(values["owner_department"])
    if values.get("category") not in (None, ""):
        cat = _category(actor, str(values["category"]), create=create_categories)
        if cat is not None:
            data["category"] = cat
    return data


def import_file(actor: User, name: str, data: bytes, *, dry_run: bool = False, now: dt.datetime) -> dict[str, Any]:
    access.require(actor, access.EDITOR_ROLES, "import knowledge articles")
    if len(data) > MAX_BYTES:
        raise InvalidInput("file", "max_size", f"the file is larger than {MAX_BYTES} bytes")
    if not data:
        raise InvalidInput("file", "required", "the file is empty")
    lower = name.lower()
    if lower.endswith((".md", ".markdown", ".txt")):
        try:
            rows = parse_markdown(data.decode("utf-8-sig"))
        except UnicodeDecodeError:
            raise InvalidInput("file", "utf8", "a Markdown file must be UTF-8 text") from None
    elif lower.endswith(".xlsx"):
        rows = parse_xlsx(data)
    else:
        raise InvalidInput("file", "format", "send an .xlsx workbook or a .md Markdown file")
    report: list[dict[str, Any]] = []
    ok = 0
    for number, values in rows:
        try:
            with transaction.atomic():
                article = actions.do_create_article(actor, _fields(actor, values, create_categories=True), now=now)
                if dry_run:
                    raise _DryRun
            report.append({"row": number, "ok": True, "id": article.pk, "title": article.title})
            ok += 1
        except _DryRun:
            report.append({"row": number, "ok": True, "id": None, "title": str(values.get("title") or "")})
            ok += 1
        except InvalidInput as exc:
            report.append({"row": number, "ok": False, "errors": exc.errors})
        except HotlineError as exc:
            report.append({"row": number, "ok": False, "errors": [{"field": "row", "rule": "rejected", "message": str(exc)}]})
    return {"imported": 0 if dry_run else ok, "valid": ok, "failed": len(report) - ok, "dry_run": dry_run, "rows": report}
