"""Chinese full-text search: segmentation, synonyms, and two engines behind one
interface.

Segmentation is jieba with the packaged user dictionary (``data/userdict.txt``:
the city's places, departments and policy terms) plus the words administrators add
(``DictionaryWord``). Both engines index *segmented* text (words joined by spaces,
stored in ``Article.search_title/search_body`` and ``TicketIndex.tokens``), so
neither needs a Chinese tokenizer of its own:

- SQLite (embedded default): FTS5 external-content tables kept in sync by
  triggers, ranked by ``bm25()``;
- PostgreSQL: generated ``tsvector`` columns (``'simple'`` configuration) with GIN
  indexes, ranked by ``ts_rank`` over a bounded candidate set (``PostgresEngine``).

Queries are segmented the same way, stop words dropped, each word expanded with its
synonyms (``SynonymGroup``) and the alternatives OR-ed: relevance ranking does the
rest. Expired, not-yet-effective and unpublished articles are filtered in SQL.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import connection

USERDICT = Path(__file__).parent / "data" / "userdict.txt"
SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms.txt"
#: How often a process looks for administrators' new words and synonyms.
VOCABULARY_REFRESH_SECONDS = 30.0

STOPWORDS = frozenset(
    """的 了 是 在 我 你 他 她 它 们 我们 你们 他们 这 那 这个 那个 哪 哪个 哪里 怎么 怎么样 怎样 如何 什么 为什么
    吗 呢 啊 吧 呀 哦 嗯 请问 请 问 想 想问 咨询 一下 有 没 和 与 及 或 或者 也 都 就 还 又 很 被 把 给 让 从 自 到 对
    于 为 以 之 而 但 但是 如果 因为 所以 可以 能 能否 是否 要 需要 应该 会 该 个 些 一些 等 中 上 下 里 后 前
    来电 来电人 来电者 反映 市民 称 表示 现 目前 现在 已经 已 情况 问题 相关 有关 进行 处理 要求 希望 尽快 诉求
    办理 怎么办 多少 哪些 什么样 如何是好 了解 今天 昨天 前天 开始 一直 多次 多日 时候 没有 不能 无法 已经 至今
    家中 家里 我家 附近""".split()
)

#: What a search word may contain: no punctuation, so no word can carry FTS5 or
#: tsquery syntax (quotes, operators, underscores) into a query.
_TOKEN_RE = re.compile(r"^[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+$")


def _plain_token(token: str) -> bool:
    return bool(_TOKEN_RE.match(token))


class Vocabulary:
    """One process's jieba tokenizer and synonym table, reloaded when
    administrators change the words (checked every VOCABULARY_REFRESH_SECONDS)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        self._synonyms: dict[str, tuple[str, ...]] = {}
        self._canonical: dict[str, str] = {}
        self._stamp: tuple[Any, ...] | None = None
        self._checked = 0.0

    def invalidate(self) -> None:
        self._checked = 0.0

    def _db_stamp(self) -> tuple[Any, ...]:
        from django.db.models import Count, Max

        from hotline.knowledge.models import DictionaryWord, SynonymGroup

        try:
            w = DictionaryWord.objects.aggregate(n=Count("id"), m=Max("created_at"), i=Max("id"))
            s = SynonymGroup.objects.aggregate(n=Count("id"), m=Max("updated_at"), i=Max("id"))
        except Exception:  # table missing (before migrate) or no database: packaged words only
            return ()
        return (w["n"], w["m"], w["i"], s["n"], s["m"], s["i"])

    def _ensure(self) -> None:
        now = time.monotonic()
        if self._tokenizer is not None and now - self._checked < VOCABULARY_REFRESH_SECONDS:
            return
        with self._lock:
            if self._tokenizer is not None and now - self._checked < VOCABULARY_REFRESH_SECONDS:
                return
            stamp = self._db_stamp()
            if self._tokenizer is None or stamp != self._stamp:
                self._load(stamp)
            self._checked = now

    def _load(self, stamp: tuple[Any, ...]) -> None:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        if USERDICT.exists():
            tokenizer.load_userdict(str(USERDICT))
        groups: list[list[str]] = []
        if SYNONYMS_FILE.exists():
            for line in SYNONYMS_FILE.read_text(encoding="utf-8").splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    groups.append([w.strip() for w in re.split(r"[,，\s]+", line) if w.strip()])
        if stamp:
            from hotline.knowledge.models import DictionaryWord, SynonymGroup

            for word, freq, tag in DictionaryWord.objects.values_list("word", "freq", "tag"):
                tokenizer.add_word(word, freq, tag or None)
            groups.extend([list(g.words) for g in SynonymGroup.objects.all()])
        synonyms: dict[str, set[str]] = {}
        canonical: dict[str, str] = {}
        for group in groups:
            words = [w.lower() for w in group if w]
            for w in words:
                synonyms.setdefault(w, set()).update(words)
                canonical.setdefault(w, words[0])
                # Multi-character synonyms must survive segmentation as one word.
                if len(w) > 1 and not tokenizer.FREQ.get(w):
                    tokenizer.add_word(w, 2000)
        self._tokenizer = tokenizer
        self._synonyms = {k: tuple(sorted(v, key=lambda x: (-len(x), x))) for k, v in synonyms.items()}
        self._canonical = canonical
        self._stamp = stamp

    # -- public ---------------------------------------------------------------

    def words(self, text: str, *, for_search: bool = True) -> list[str]:
        """Segmented words, lower-cased, without punctuation, stop words and single
        characters (kept if they are digits/letters of two or more)."""
        self._ensure()
        if not text:
            return []
        cut = self._tokenizer.cut_for_search if for_search else self._tokenizer.cut
        out = []
        for raw in cut(text, HMM=True):
            token = raw.strip().lower()
            if len(token) < 2 or token in STOPWORDS or not _plain_token(token):
                continue
            out.append(token)
        return out

    def expand(self, word: str) -> tuple[str, ...]:
        self._ensure()
        return self._synonyms.get(word, (word,))

    def canonical(self, word: str) -> str:
        self._ensure()
        return self._canonical.get(word, word)

    def is_known(self, word: str) -> bool:
        self._ensure()
        return bool(self._tokenizer.FREQ.get(word))


vocabulary = Vocabulary()


def segment(text: str) -> str:
    """The indexed form of a text: its words joined by spaces."""
    return " ".join(vocabulary.words(text))


def strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", text or "")
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


# --- queries -----------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """One word of the query (precise segmentation) and what may stand for it in a
    document: the word itself, its synonyms, or all of its sub-words together
    (医疗保险 → 医疗 + 保险), since documents are indexed with the sub-words too."""

    word: str
    alternatives: tuple[str, ...]
    parts: tuple[str, ...] = ()

    def fts5(self) -> str:
        alts = [f'"{w}"' for w in self.alternatives]
        if len(self.parts) > 1:
            alts.append("(" + " AND ".join(f'"{w}"' for w in self.parts) + ")")
        return "(" + " OR ".join(alts) + ")"

    def tsquery(self) -> str:
        alts = list(self.alternatives)
        if len(self.parts) > 1:
            alts.append("(" + " & ".join(self.parts) + ")")
        return "(" + " | ".join(alts) + ")"


@dataclass
class Query:
    text: str
    groups: list[Group] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        """Every word that may match: for highlighting."""
        seen: dict[str, None] = {}
        for group in self.groups:
            for word in (*group.alternatives, *group.parts):
                seen.setdefault(word, None)
        return list(seen)

    def __bool__(self) -> bool:
        return bool(self.groups)


MAX_QUERY_WORDS = 24


def parse_query(text: str) -> Query:
    words: dict[str, None] = {}
    for word in vocabulary.words((text or "")[:500], for_search=False):
        words.setdefault(word, None)
    groups = []
    for w in list(words)[:MAX_QUERY_WORDS]:
        parts = tuple(p for p in dict.fromkeys(vocabulary.words(w)) if p != w) if len(w) > 2 else ()
        groups.append(Group(w, vocabulary.expand(w), parts))
    return Query(text=text, groups=groups)


#: At most this many query words (the most selective) are matched together.
AND_MAX_GROUPS = 4
#: Document frequencies of query words are cached per process this long.
DF_CACHE_SECONDS = 600.0

# --- highlighting --------------------------------------------------------------------


def highlight(text: str, terms: Sequence[str], *, limit: int | None = None) -> str:
    """HTML-escaped ``text`` with the query terms wrapped in <mark>; with ``limit``
    a window of about that many characters around the first match."""
    text = text or ""
    ordered = sorted({t for t in terms if t}, key=len, reverse=True)
    if limit is not None and len(text) > limit:
        lower = text.lower()
        positions = [p for p in (lower.find(t) for t in ordered) if p >= 0]
        start = max(0, min(positions) - limit // 4) if positions else 0
        end = min(len(text), start + limit)
        text = ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")
    if not ordered:
        return html.escape(text)
    pattern = re.compile("|".join(re.escape(t) for t in ordered), re.IGNORECASE)
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(html.escape(text[last:m.start()]))
        out.append(f"<mark>{html.escape(m.group(0))}</mark>")
        last = m.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


# --- the engines -----------------------------------------------------------------------


@dataclass
class ArticleFilter:
    now: dt.datetime
    statuses: Sequence[str] = ("published",)
    visibilities: Sequence[str] = ("internal", "public")
    #: "current" (effective and not expired), "expired", "upcoming" or "all".
    validity: str = "current"
    category_path: str | None = None
    kinds: Sequence[str] = ()
    department_ids: Sequence[int] = ()
    #: Drafts of these departments are visible too (department users' own proposals).
    own_department_id: int | None = None


def db_datetime(value: dt.datetime) -> Any:
    """A datetime as the raw-SQL parameter the backend compares correctly with stored
    values (SQLite stores naive UTC text: an aware +08:00 value must be converted)."""
    return connection.ops.adapt_datetimefield_value(value)


def _article_where(f: ArticleFilter, alias: str = "a") -> tuple[str, list[Any]]:
    now = db_datetime(f.now)
    clauses: list[str] = []
    params: list[Any] = []

    def placeholders(values: Sequence[Any]) -> str:
        params.extend(values)
        return ", ".join(["%s"] * len(values))

    status_sql = f"{alias}.status IN ({placeholders(list(f.statuses))})" if f.statuses else "1=0"
    if f.own_department_id is not None:
        status_sql = f"({status_sql} OR {alias}.owner_department_id = %s)"
        params.append(f.own_department_id)
    clauses.append(status_sql)
    clauses.append(f"{alias}.visibility IN ({placeholders(list(f.visibilities))})")
    if f.validity == "current":
        clauses.append(f"({alias}.effective_at IS NULL OR {alias}.effective_at <= %s)")
        clauses.append(f"({alias}.expires_at IS NULL OR {alias}.expires_at > %s)")
        params.extend([now, now])
    elif f.validity == "expired":
        clauses.append(f"{alias}.expires_at <= %s")
        params.append(now)
    elif f.validity == "upcoming":
        clauses.append(f"{alias}.effective_at > %s")
        params.append(now)
    if f.kinds:
        clauses.append(f"{alias}.kind IN ({placeholders(list(f.kinds))})")
    if f.department_ids:
        clauses.append(f"{alias}.owner_department_id IN ({placeholders(list(f.department_ids))})")
    if f.category_path:
        clauses.append(
            f"{alias}.category_id IN (SELECT c.id FROM knowledge_articlecategory c WHERE c.path LIKE %s)"
        )
        params.append(f.category_path + "%")
    return " AND ".join(clauses), params


class SearchEngine:
    """One database's full-text search. Both engines run the same plan (``_plan``)."""

    vendor = "base"
    #: document-frequency cache shared by the process: (vendor, table, expression) -> (count, when)
    _df: dict[tuple[str, str, str], tuple[int, float]] = {}

    def expression(self, groups: Sequence[Group], op: str) -> str:
        raise NotImplementedError

    def count(self, table: str, expr: str | None) -> int:
        raise NotImplementedError

    def _cached_count(self, table: str, expr: str | None) -> int:
        key = (self.vendor, table, expr or "")
        hit = self._df.get(key)
        now = time.monotonic()
        if hit is not None and now - hit[1] < DF_CACHE_SECONDS:
            return hit[0]
        n = self.count(table, expr)
        if len(self._df) > 50_000:
            self._df.clear()
        if n:  # a word found nowhere is asked again: a new document may bring it
            self._df[key] = (n, now)
        return n

    def document_frequency(self, table: str, group: Group) -> int:
        """How many documents hold ``group`` (0: none, the group is skipped)."""
        return self._cached_count(table, self.expression([group], "and"))

    def _plan(self, table: str, query: Query, limit: int, run: Any) -> list[tuple[int, float]]:
        """All words first; while fewer than ``limit`` documents match, leave out the
        most common remaining word and ask again (at most AND_MAX_GROUPS words, the
        most selective, words found nowhere skipped). Documents with more of the
        rare words rank first; every query scores only documents holding all of its
        words, which keeps the engine from scoring half the collection."""
        groups = list(dict.fromkeys(query.groups))
        if not groups:
            return []
        if len(groups) == 1:
            return run(groups)
        df = {g: self.document_frequency(table, g) for g in groups}
        useful = sorted((g for g in groups if df[g] > 0), key=lambda g: (df[g], groups.index(g)))[:AND_MAX_GROUPS]
        rows: list[tuple[int, float]] = []
        seen: set[int] = set()
        while useful:
            for row in run(useful):
                if row[0] not in seen:
                    seen.add(row[0])
                    rows.append(row)
            if len(rows) >= limit:
                break
            useful = useful[:-1]
        return rows[:limit]

    def search_articles(self, query: Query, f: ArticleFilter, limit: int) -> list[tuple[int, float]]:
        return self._plan("article", query, limit, lambda groups: self._articles(groups, f, limit))

    def search_tickets(self, query: Query, *, limit: int, exclude_ticket_id: int | None = None) -> list[tuple[int, float]]:
        return self._plan("ticket", query, limit, lambda groups: self._tickets(self.expression(groups, "and"), limit, exclude_ticket_id))

    def _articles(self, groups: Sequence[Group], f: ArticleFilter, limit: int) -> list[tuple[int, float]]:
        raise NotImplementedError

    def _tickets(self, expr: str, limit: int, exclude_ticket_id: int | None) -> list[tuple[int, float]]:
        raise NotImplementedError

    def _run(self, sql: str, params: list[Any]) -> list[tuple[int, float]]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(int(r[0]), float(r[1])) for r in cursor.fetchall()]


#: Statuses of a ticket whose answer may be offered as a similar past case.
ANSWERED_STATUSES = ("resolved", "reviewed", "called_back", "closed")


class SqliteEngine(SearchEngine):
    vendor = "sqlite"
    TABLES = {"article": "knowledge_article_fts", "ticket": "knowledge_ticket_fts"}

    def expression(self, groups: Sequence[Group], op: str) -> str:
        return f" {op.upper()} ".join(g.fts5() for g in groups)

    def count(self, table: str, expr: str | None) -> int:
        fts = self.TABLES[table]
        with connection.cursor() as cursor:
            if expr is None:
                cursor.execute(f"SELECT count(*) FROM {fts}")
            else:
                cursor.execute(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH %s", [expr])
            return int(cursor.fetchone()[0])

    #: The best this many matches are ranked inside FTS5 alone, then filtered by
    #: status and validity (most articles pass); only when fewer than ``limit``
    #: survive is the filter applied to every match.
    PREFILTER = 200

    def _articles(self, groups: Sequence[Group], f: ArticleFilter, limit: int) -> list[tuple[int, float]]:
        expr = self.expression(groups, "and")
        where, params = _article_where(f)
        inner = max(self.PREFILTER, limit * 10)
        sql = (
            "SELECT a.id, -r.s AS score FROM (SELECT rowid AS id, bm25(knowledge_article_fts, 4.0, 1.0) AS s "
            "FROM knowledge_article_fts WHERE knowledge_article_fts MATCH %s ORDER BY s LIMIT %s) r "
            f"JOIN knowledge_article a ON a.id = r.id WHERE {where} ORDER BY r.s, a.id LIMIT %s"
        )
        rows = self._run(sql, [expr, inner, *params, limit])
        if len(rows) >= limit:
            return rows
        sql = (
            "SELECT a.id, -bm25(knowledge_article_fts, 4.0, 1.0) AS score "
            "FROM knowledge_article_fts JOIN knowledge_article a ON a.id = knowledge_article_fts.rowid "
            f"WHERE knowledge_article_fts MATCH %s AND {where} ORDER BY bm25(knowledge_article_fts, 4.0, 1.0), a.id LIMIT %s"
        )
        return self._run(sql, [expr, *params, limit])

    def _tickets(self, expr: str, limit: int, exclude_ticket_id: int | None) -> list[tuple[int, float]]:
        statuses = ", ".join(["%s"] * len(ANSWERED_STATUSES))
        sql = (
            "SELECT f.rowid, -bm25(knowledge_ticket_fts) AS score FROM knowledge_ticket_fts f "
            "JOIN cases_ticket t ON t.id = f.rowid "
            f"WHERE knowledge_ticket_fts MATCH %s AND t.status IN ({statuses}) AND t.id <> %s "
            "ORDER BY bm25(knowledge_ticket_fts) LIMIT %s"
        )
        return self._run(sql, [expr, *ANSWERED_STATUSES, exclude_ticket_id or 0, limit])


class PostgresEngine(SearchEngine):
    """GIN-indexed ``tsvector`` columns ranked by ``ts_rank`` (title weight A, body B).

    Two costs grow with the number of matching documents, and both are bounded:

    - document frequencies for the query plan come from the planner's statistics of
      the column (``pg_stats.most_common_elems``, kept by ANALYZE/autovacuum) for
      common words; only words too rare to be listed are counted — cheaply, since
      they are rare;
    - ranking: three candidate sets of at most ``CANDIDATES`` documents each are
      ranked — documents whose *title* holds every query word, whose title holds
      any of them, and any documents holding every word (GIN lookups stopped by a
      LIMIT, no sort). Every candidate holds every selected query word. Up to
      ``CANDIDATES`` matches the result is the exact ranking; beyond, the top
      ``limit`` is the best of the candidates, title matches always among them.
      On the 100,000-article bench data (3,000–9,000 matches per query) ranking
      every match took p50 73 / p95 169 ms against 24 / 42 ms for this, at load 5.
    """

    vendor = "postgresql"
    TABLES = {"article": ("knowledge_article", "TRUE"), "ticket": ("knowledge_ticketindex", "answered")}
    #: See the class docstring: per query step, at most this many documents of each
    #: candidate set are scored.
    CANDIDATES = 200
    #: How many title candidate sets (0: none, 1: all words, 2: all and any words).
    TITLE_SETS = 2
    #: (table) -> (lexeme frequencies, row estimate, when read)
    _stats: dict[str, tuple[dict[str, float], float, float]] = {}

    def expression(self, groups: Sequence[Group], op: str) -> str:
        return (" & " if op == "and" else " | ").join(g.tsquery() for g in groups)

    def count(self, table: str, expr: str | None) -> int:
        name, cond = self.TABLES[table]
        with connection.cursor() as cursor:
            if expr is None:
                cursor.execute(f"SELECT count(*) FROM {name} WHERE {cond}")
            else:
                cursor.execute(f"SELECT count(*) FROM {name} WHERE {cond} AND search_vector @@ to_tsquery('simple', %s)", [expr])
            return int(cursor.fetchone()[0])

    def lexeme_stats(self, table: str) -> tuple[dict[str, float], float]:
        """The column's most common lexemes with the fraction of rows holding each,
        and the table's row estimate (empty before the first ANALYZE)."""
        name = self.TABLES[table][0]
        hit = self._stats.get(name)
        now = time.monotonic()
        if hit is not None and now - hit[2] < DF_CACHE_SECONDS:
            return hit[0], hit[1]
        freqs: dict[str, float] = {}
        rows = 0.0
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = %s AND attname = 'search_vector'", [name])
            row = cursor.fetchone()
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [name])
            tuples = cursor.fetchone()
        if row and row[0] and row[1] and tuples and tuples[0] > 0:
            # most_common_elem_freqs ends with three summary values (min, max, nulls).
            freqs = dict(zip(row[0], row[1][: len(row[0])], strict=True))
            rows = float(tuples[0])
        self._stats[name] = (freqs, rows, now)
        return freqs, rows

    def document_frequency(self, table: str, group: Group) -> int:
        freqs, rows = self.lexeme_stats(table)
        known = [freqs[w] for w in group.alternatives if w in freqs]
        if known:  # a common word: estimated from the statistics, never counted
            return max(1, round(min(1.0, sum(known)) * rows))
        return super().document_frequency(table, group)

    def _articles(self, groups: Sequence[Group], f: ArticleFilter, limit: int) -> list[tuple[int, float]]:
        expr = self.expression(groups, "and")
        where, params = _article_where(f)
        # Candidates, each set one GIN lookup stopped after CANDIDATES rows: titles
        # holding every word; titles holding any word (when there are several);
        # documents holding every word anywhere. The other conditions are wrapped in
        # IS TRUE so that they stay row filters: the planner must not combine the
        # small title lookup with the big body bitmap or the status/expiry indexes
        # (it did, and each cost more than the lookup itself).
        sets = []
        if self.TITLE_SETS:
            sets.append(("a.title_vector", expr, f"({where} AND a.search_vector @@ to_tsquery('simple', %s)) IS TRUE", True))
            if len(groups) > 1 and self.TITLE_SETS > 1:
                sets.append(("a.title_vector", self.expression(groups, "or"),
                             f"({where} AND a.search_vector @@ to_tsquery('simple', %s)) IS TRUE", True))
        sets.append(("a.search_vector", expr, f"({where}) IS TRUE", False))
        parts, args = [], []
        for column, q, condition, needs_expr in sets:
            parts.append(f"(SELECT a.id FROM knowledge_article a WHERE {column} @@ to_tsquery('simple', %s) AND {condition} LIMIT %s)")
            args += [q, *params, *([expr] if needs_expr else []), max(self.CANDIDATES, limit)]
        sql = (
            "SELECT a.id, ts_rank(a.search_vector, q) AS score FROM knowledge_article a, to_tsquery('simple', %s) q "
            f"WHERE a.id IN ({' UNION ALL '.join(parts)}) ORDER BY score DESC, a.id DESC LIMIT %s"
        )
        return self._run(sql, [expr, *args, limit])

    def _tickets(self, expr: str, limit: int, exclude_ticket_id: int | None) -> list[tuple[int, float]]:
        # Similar past cases: the newest 2 × CANDIDATES answered tickets holding every
        # selected word are ranked (a million-ticket history matches by the thousand).
        statuses = ", ".join(["%s"] * len(ANSWERED_STATUSES))
        sql = (
            "SELECT i.ticket_id, ts_rank(i.search_vector, q) AS score FROM knowledge_ticketindex i, to_tsquery('simple', %s) q "
            "WHERE i.ticket_id IN ("
            "SELECT i.ticket_id FROM knowledge_ticketindex i JOIN cases_ticket t ON t.id = i.ticket_id "
            f"WHERE i.answered AND i.search_vector @@ to_tsquery('simple', %s) AND t.status IN ({statuses}) AND t.id <> %s "
            "ORDER BY i.ticket_id DESC LIMIT %s) ORDER BY score DESC, i.ticket_id DESC LIMIT %s"
        )
        return self._run(sql, [expr, expr, *ANSWERED_STATUSES, exclude_ticket_id or 0, self.CANDIDATES * 2, limit])


def engine() -> SearchEngine:
    return PostgresEngine() if connection.vendor == "postgresql" else SqliteEngine()


@dataclass
class ArticleHit:
    article: Any
    score: float
    title_html: str
    snippet_html: str


SNIPPET_CHARS = 120


def search_articles(text: str, f: ArticleFilter, *, limit: int = 10) -> list[ArticleHit]:
    """The best ``limit`` articles for ``text`` within filter ``f``, most relevant
    first, with highlighted title and snippet (HTML-escaped, <mark> around hits)."""
    from hotline.knowledge.models import Article

    query = parse_query(text)
    if not query:
        return []
    rows = engine().search_articles(query, f, max(1, min(limit, 100)))
    articles = Article.objects.select_related("category", "owner_department").in_bulk([r[0] for r in rows])
    terms = query.terms
    hits = []
    for article_id, score in rows:
        a = articles.get(article_id)
        if a is None:
            continue
        source = a.answer or strip_html(a.body)
        body = strip_html(a.body)
        # The snippet comes from the answer or body, whichever shows a query word.
        lower_terms = [t.lower() for t in terms]
        if not any(t in source.lower() for t in lower_terms) and any(t in body.lower() for t in lower_terms):
            source = body
        hits.append(ArticleHit(a, round(score, 6), highlight(a.title, terms), highlight(source, terms, limit=SNIPPET_CHARS)))
    return hits


# --- schema (used by the migrations; kept here so a later table rebuild can re-run it) --


SQLITE_DDL = [
    "CREATE VIRTUAL TABLE knowledge_article_fts USING fts5("
    "search_title, search_body, content='knowledge_article', content_rowid='id', tokenize='unicode61')",
    "CREATE TRIGGER knowledge_article_fts_ai AFTER INSERT ON knowledge_article BEGIN "
    "INSERT INTO knowledge_article_fts(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER knowledge_article_fts_ad AFTER DELETE ON knowledge_article BEGIN "
    "INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    "CREATE TRIGGER knowledge_article_fts_au AFTER UPDATE ON knowledge_article BEGIN "
    "INSERT INTO knowledge_article_fts(knowledge_article_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO knowledge_article_fts(rowid, search_title, search_body) VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE VIRTUAL TABLE knowledge_ticket_fts USING fts5("
    "tokens, content='knowledge_ticketindex', content_rowid='ticket_id', tokenize='unicode61')",
    "CREATE TRIGGER knowledge_ticket_fts_ai AFTER INSERT ON knowledge_ticketindex WHEN new.answered BEGIN "
    "INSERT INTO knowledge_ticket_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
    "CREATE TRIGGER knowledge_ticket_fts_ad AFTER DELETE ON knowledge_ticketindex WHEN old.answered BEGIN "
    "INSERT INTO knowledge_ticket_fts(knowledge_ticket_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER knowledge_ticket_fts_aud AFTER UPDATE ON knowledge_ticketindex WHEN old.answered BEGIN "
    "INSERT INTO knowledge_ticket_fts(knowledge_ticket_fts, rowid, tokens) VALUES ('delete', old.ticket_id, old.tokens); END",
    "CREATE TRIGGER knowledge_ticket_fts_aui AFTER UPDATE ON knowledge_ticketindex WHEN new.answered BEGIN "
    "INSERT INTO knowledge_ticket_fts(rowid, tokens) VALUES (new.ticket_id, new.tokens); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS knowledge_article_fts_ai", "DROP TRIGGER IF EXISTS knowledge_article_fts_ad",
    "DROP TRIGGER IF EXISTS knowledge_article_fts_au", "DROP TABLE IF EXISTS knowledge_article_fts",
    "DROP TRIGGER IF EXISTS knowledge_ticket_fts_ai", "DROP TRIGGER IF EXISTS knowledge_ticket_fts_ad",
    "DROP TRIGGER IF EXISTS knowledge_ticket_fts_aud", "DROP TRIGGER IF EXISTS knowledge_ticket_fts_aui",
    "DROP TABLE IF EXISTS knowledge_ticket_fts",
]
POSTGRES_DDL = [
    "ALTER TABLE knowledge_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', coalesce(search_title, '')), 'A') || "
    "setweight(to_tsvector('simple', coalesce(search_body, '')), 'B')) STORED",
    "CREATE INDEX knowledge_article_search_gin ON knowledge_article USING GIN (search_vector)",
    "ALTER TABLE knowledge_ticketindex ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple', coalesce(tokens, ''))) STORED",
    "CREATE INDEX knowledge_ticketindex_search_gin ON knowledge_ticketindex USING GIN (search_vector) WHERE answered",
]
POSTGRES_DROP = [
    "DROP INDEX IF EXISTS knowledge_ticketindex_search_gin",
    "ALTER TABLE knowledge_ticketindex DROP COLUMN IF EXISTS search_vector",
    "DROP INDEX IF EXISTS knowledge_article_search_gin",
    "ALTER TABLE knowledge_article DROP COLUMN IF EXISTS search_vector",
]


#: Migration 0003 (PostgreSQL only): the title's own vector, so title matches are
#: always among the ranked candidates (PostgresEngine.CANDIDATES).
POSTGRES_TITLE_DDL = [
    "ALTER TABLE knowledge_article ADD COLUMN title_vector tsvector GENERATED ALWAYS AS ("
    "to_tsvector('simple', coalesce(search_title, ''))) STORED",
    "CREATE INDEX knowledge_article_title_gin ON knowledge_article USING GIN (title_vector)",
]
POSTGRES_TITLE_DROP = [
    "DROP INDEX IF EXISTS knowledge_article_title_gin",
    "ALTER TABLE knowledge_article DROP COLUMN IF EXISTS title_vector",
]


def create_search_schema(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = SQLITE_DDL if vendor == "sqlite" else POSTGRES_DDL if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def drop_search_schema(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = SQLITE_DROP if vendor == "sqlite" else POSTGRES_DROP if vendor == "postgresql" else []
    for sql in statements:
        schema_editor.execute(sql)


def rebuild_sqlite_fts() -> None:
    """Re-read the external content (after a bulk load that bypassed triggers)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO knowledge_article_fts(knowledge_article_fts) VALUES ('rebuild')")


def iter_unique(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(words))
