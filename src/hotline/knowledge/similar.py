"""Duplicate detection (判重) and similar past tickets.

Every ticket gets a derived row in ``TicketIndex``: its content words (jieba,
without stop words and without the words of its own address, so two different
appeals at one address do not look alike), a normalised address key ("东华路88号"),
the caller's phone and four MinHash LSH band keys (8 permutations, bands of 2).

``find_duplicates`` looks in a window (``HOTLINE_DUPLICATE_WINDOW_DAYS``, 30 by
default) for tickets with the same caller, the same address key or a shared LSH
band — each a bounded, indexed lookup — and scores the candidates by the cosine of
their word sets after synonym folding (停水/断水/没水 count as one word). A candidate
is a *probable* duplicate when

- same caller and similarity ≥ 0.2, or
- same address and similarity ≥ 0.3, or
- similarity ≥ 0.6 when one of the two has no recognisable address (a band hit:
  the same appeal, its address missing or written differently).

Two appeals at two *different* recognised addresses from different callers are
never probable duplicates, however alike their words: short appeals about the same
kind of problem (停水 here and 停水 there) share most of their words.

Tickets are indexed by the periodic ``knowledge.tasks.sync_index`` and, for the
newest ones, lazily on each check, so the ticket model and the case actions stay
untouched.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from hotline.cases.models import Status, Ticket
from hotline.knowledge.models import TicketIndex
from hotline.knowledge.search import ANSWERED_STATUSES, db_datetime, vocabulary
from hotline.lib.env import envint

WINDOW_DAYS = envint("HOTLINE_DUPLICATE_WINDOW_DAYS", 30, minimum=1)
SAME_CALLER_MIN = 0.2
SAME_ADDRESS_MIN = 0.3
CONTENT_ONLY_MIN = 0.6
#: Per lookup key, the newest this many candidates are scored.
PER_KEY_LIMIT = 60
EXCLUDED_STATUSES = (Status.MERGED, Status.VOIDED, Status.DRAFT)
#: Words every appeal uses; they say nothing about which appeal it is.
TICKET_STOPWORDS = frozenset("小区 附近 一直 多次 多日 开始 我家 家里 家中 居民 业主 住户 有人 东西 时候 今天 昨天 前天 电话 "
                             "联系 解决 影响 严重 生活 不便 非常 特别 没有 时候 什么 何时".split())

_ADDRESS_RE = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{1,12}?(?:大道|大街|路|街|巷|弄|道|里|村|组))([0-9一二三四五六七八九十百零〇-]+)(号|弄|栋|幢)")
_ADMIN_PREFIX = re.compile(r"^(.{1,8}?[省市])?(.{1,8}?[区县])?")


def address_key(address: str) -> str:
    text = re.sub(r"[\s,，。、()（）\-]+", "", address or "")
    if not text:
        return ""
    m = _ADDRESS_RE.search(text)
    if m:
        road = _ADMIN_PREFIX.sub("", m.group(1)) or m.group(1)
        return f"{road}{m.group(2)}{m.group(3)}"[:64]
    return (_ADMIN_PREFIX.sub("", text) or text)[:64]


def content_words(summary: str, content: str, address: str = "") -> list[str]:
    drop = set(vocabulary.words(address)) if address else set()
    key = address_key(address)
    words = []
    for w in vocabulary.words(f"{summary} {content}"):
        if w in drop or w in TICKET_STOPWORDS or w.isdigit() or (key and w in key):
            continue
        words.append(vocabulary.canonical(w))
    return words


# --- MinHash LSH ---------------------------------------------------------------------------

_PRIME = (1 << 61) - 1
_PERMS = [((i * 0x9E3779B1 + 0x7F4A7C15) % _PRIME | 1, (i * 0x85EBCA77 + 0xC2B2AE3D) % _PRIME) for i in range(1, 9)]
BANDS = 4


def band_keys(words: Iterable[str]) -> list[int]:
    unique = {zlib.crc32(w.encode("utf-8")) for w in words}
    if not unique:
        return [0] * BANDS
    mins = [min((a * x + b) % _PRIME for x in unique) for a, b in _PERMS]
    keys = []
    for band in range(BANDS):
        h = zlib.crc32(f"{band}:{mins[2 * band]}:{mins[2 * band + 1]}".encode())
        keys.append(((band + 1) << 32) | h)  # never 0, so 0 means "no band"
    return keys


#: Separates the appeal's words from the answer's in ``TicketIndex.tokens``; both
#: full-text engines treat it as punctuation.
ANSWER_MARK = "|"


def appeal_words(tokens: str) -> list[str]:
    """The appeal's own words of an index row (without the answer's)."""
    return tokens.split(ANSWER_MARK, 1)[0].split()


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """Cosine of the word sets (Ochiai coefficient)."""
    sa, sb = set(a), set(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / math.sqrt(len(sa) * len(sb))


# --- the index -------------------------------------------------------------------------------


def index_row(ticket: Ticket, now: dt.datetime) -> TicketIndex:
    words = content_words(ticket.summary, ticket.content, ticket.address)
    bands = band_keys(words)
    answered = ticket.status in ANSWERED_STATUSES and bool((ticket.result or "").strip())
    # Similar-case search matches the appeal *and* its answer words; the answer's
    # words follow ANSWER_MARK so duplicate scoring and hot topics use the appeal only.
    tokens = words + ([ANSWER_MARK, *vocabulary.words(ticket.result)] if answered else [])
    return TicketIndex(
        ticket_id=ticket.pk, created_at=ticket.created_at, phone=ticket.contact_phone, address_key=address_key(ticket.address),
        district_id=ticket.district_id, category_id=ticket.category_id, tokens=" ".join(tokens), answered=answered,
        band0=bands[0], band1=bands[1], band2=bands[2], band3=bands[3], indexed_at=now,
    )


FIELDS = ["pk", "created_at", "contact_phone", "address", "district_id", "category_id", "summary", "content", "status", "result"]


def _upsert(tickets: list[Ticket], now: dt.datetime) -> int:
    if not tickets:
        return 0
    return write_rows([index_row(t, now) for t in tickets])


def write_rows(rows: list[TicketIndex]) -> int:
    """Replace the index rows of these tickets (one transaction)."""
    if not rows:
        return 0
    try:
        with transaction.atomic():
            # Delete + insert (not an upsert) so the SQLite FTS triggers see both sides.
            TicketIndex.objects.filter(ticket_id__in=[r.ticket_id for r in rows]).delete()
            TicketIndex.objects.bulk_create(rows, batch_size=500)
    except IntegrityError:
        # Another process indexed the same tickets at the same moment: their rows
        # are as good as ours (derived data), so this is not an error.
        return 0
    return len(rows)


def sync_index(*, now: dt.datetime | None = None, new_limit: int = 5000, changed_since: dt.datetime | None = None,
               batch: int = 500) -> int:
    """Index tickets not yet indexed (newest id first, up to ``new_limit``) and those
    changed since ``changed_since``. Returns the number of rows written."""
    now = now or timezone.now()
    done = 0
    last = TicketIndex.objects.order_by("-ticket_id").values_list("ticket_id", flat=True).first() or 0
    while done < new_limit:
        chunk = list(Ticket.objects.filter(pk__gt=last).order_by("pk").only(*FIELDS)[: min(batch, new_limit - done)])
        if not chunk:
            break
        done += _upsert(chunk, now)
        last = chunk[-1].pk
    if changed_since is not None:
        ids = list(Ticket.objects.filter(updated_at__gte=changed_since, pk__lte=last).values_list("pk", flat=True)[:50_000])
        for i in range(0, len(ids), batch):
            done += _upsert(list(Ticket.objects.filter(pk__in=ids[i:i + batch]).only(*FIELDS)), now)
    return done


def rebuild_index(*, progress: Any = None, batch: int = 2000) -> int:
    TicketIndex.objects.all().delete()
    total, count = Ticket.objects.count(), 0
    last = 0
    now = timezone.now()
    while True:
        chunk = list(Ticket.objects.filter(pk__gt=last).order_by("pk").only(*FIELDS)[:batch])
        if not chunk:
            break
        count += _upsert(chunk, now)
        last = chunk[-1].pk
        if progress:
            progress(count, total)
    return count


# --- finding duplicates ----------------------------------------------------------------------


@dataclass
class Candidate:
    ticket_id: int
    similarity: float
    same_caller: bool = False
    same_address: bool = False
    probable: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def score(self) -> float:
        """For ranking: similarity, lifted when caller or address agree."""
        return round(min(1.0, self.similarity + (0.2 if self.same_caller else 0) + (0.1 if self.same_address else 0)), 3)


@dataclass
class Appeal:
    summary: str = ""
    content: str = ""
    phone: str = ""
    address: str = ""
    ticket_id: int | None = None

    @classmethod
    def of(cls, value: Ticket | Mapping[str, Any]) -> Appeal:
        if isinstance(value, Ticket):
            return cls(value.summary, value.content, value.contact_phone, value.address, value.pk)
        return cls(str(value.get("summary") or ""), str(value.get("content") or ""), str(value.get("phone") or value.get("contact_phone") or ""),
                   str(value.get("address") or ""), value.get("ticket_id"))


def _candidate_rows(phone: str, key: str, bands: list[int], since: dt.datetime, exclude: int | None) -> list[tuple[Any, ...]]:
    parts: list[str] = []
    params: list[Any] = []
    since = db_datetime(since)
    sel = "SELECT ticket_id, phone, address_key, tokens FROM knowledge_ticketindex"
    if phone:
        parts.append(f"{sel} WHERE phone = %s AND created_at >= %s ORDER BY created_at DESC LIMIT %s")
        params += [phone, since, PER_KEY_LIMIT]
    if key:
        parts.append(f"{sel} WHERE address_key = %s AND created_at >= %s ORDER BY created_at DESC LIMIT %s")
        params += [key, since, PER_KEY_LIMIT]
    for i, band in enumerate(bands):
        if band:
            parts.append(f"{sel} WHERE band{i} = %s AND created_at >= %s ORDER BY created_at DESC LIMIT %s")
            params += [band, since, PER_KEY_LIMIT]
    if not parts:
        return []
    sql = " UNION ".join(f"SELECT * FROM ({p}) AS q{i}" for i, p in enumerate(parts))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [r for r in rows if r[0] != exclude]


def find_duplicates(ticket_or_text: Ticket | Mapping[str, Any], *, now: dt.datetime | None = None,
                    window_days: int | None = None, limit: int = 10, include_unlikely: bool = False,
                    sync: bool = True) -> list[Candidate]:
    """Tickets in the window that are probably the same appeal, best first.

    ``ticket_or_text`` is a ticket or a mapping with summary, content, phone
    (or contact_phone), address and optionally ticket_id (excluded from results).
    With ``include_unlikely`` every scored candidate is returned (probable or not).
    """
    now = now or timezone.now()
    appeal = Appeal.of(ticket_or_text)
    if sync:
        sync_index(now=now, new_limit=2000)
    words = content_words(appeal.summary, appeal.content, appeal.address)
    bands = band_keys(words) if words else [0] * BANDS
    key = address_key(appeal.address)
    phone = re.sub(r"\s+", "", appeal.phone)
    since = now - dt.timedelta(days=window_days or WINDOW_DAYS)
    rows = _candidate_rows(phone, key, bands, since, appeal.ticket_id)
    if not rows:
        return []
    mine = set(words)
    found: list[Candidate] = []
    for ticket_id, their_phone, their_key, tokens in rows:
        sim = similarity(mine, appeal_words(tokens))
        c = Candidate(ticket_id=ticket_id, similarity=round(sim, 3), same_caller=bool(phone) and their_phone == phone,
                      same_address=bool(key) and their_key == key)
        if c.same_caller:
            c.reasons.append("same_caller")
        if c.same_address:
            c.reasons.append("same_address")
        if sim >= SAME_CALLER_MIN:
            c.reasons.append("similar_text")
        different_places = bool(key) and bool(their_key) and not c.same_address
        c.probable = ((c.same_caller and sim >= SAME_CALLER_MIN) or (c.same_address and sim >= SAME_ADDRESS_MIN)
                      or (not different_places and sim >= CONTENT_ONLY_MIN))
        if c.probable or include_unlikely:
            found.append(c)
    # Drop tickets that are merged, voided or still drafts.
    alive = set(Ticket.objects.filter(pk__in=[c.ticket_id for c in found]).exclude(status__in=EXCLUDED_STATUSES).values_list("pk", flat=True))
    found = [c for c in found if c.ticket_id in alive]
    found.sort(key=lambda c: (c.probable, c.score, c.ticket_id), reverse=True)
    return found[:limit]
