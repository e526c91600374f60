"""Benchmark: duplicate check (判重) against 1,000,000 indexed tickets (target p95 < 100 ms).

    .venv/bin/python bench/duplicate_check.py --db sqlite   [--rows 1000000 --queries 300]
    .venv/bin/python bench/duplicate_check.py --db postgres

Loads ``TicketIndex`` rows in bulk (the derived index ``knowledge.similar`` keeps:
segmented appeal words, address key, phone, MinHash band keys), spread over a year,
built from 20,000 reworded variants of the demo city's appeals at random addresses
of its roads, 40% answered. Ticket rows exist only for the probed originals (the
index rows of the others point at no ticket: loading a million full tickets would
time the loader, not the check; foreign-key checks are off while loading). Then
times ``similar.find_duplicates`` for reworded repeats of random recent tickets
(same address, a new caller or the same one) and reports how often the original
was flagged.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time

from knowledge_common import arguments, machine, measure, progress, setup, summary

OFFSET = 10_000_000
#: Distinct reworded appeals the rows are drawn from (each segmented once).
VARIANTS = 20_000
ROADS = ["东华路", "解放大街", "朝阳路", "人民路", "和平里", "西环路", "长安街", "文昌路", "金融街", "西湖路", "南湖大道", "滨湖路",
         "湖心路", "望湖街", "渔港路", "北山路", "矿区路", "青松街", "龙泉大道", "石门路", "科技大道", "创新路", "软件园路", "光谷街"]
OPENINGS = ["", "我想反映一下，", "您好，", "麻烦登记一下，", "再次来电，", "市民来电称，"]


def _variant(rng: random.Random, tpl, road: str, number: int):  # type: ignore[no-untyped-def]
    from hotline.cases.demo_data import ESTATES

    ctx = {"addr": f"{road}{number}号", "road": road, "estate": rng.choice(ESTATES), "district": "",
           "days": rng.choice(["前天", "三天前", "上周五", "昨天上午"]), "n": str(rng.randint(2, 4))}
    content = rng.choice(OPENINGS) + tpl.content.format(**ctx)
    # Reword: drop one clause, so no two variants are identical.
    clauses = [c for c in content.replace("。", "，").split("，") if c]
    if len(clauses) > 3:
        clauses.pop(rng.randrange(1, len(clauses)))
    return tpl.summary.format(**ctx)[:200], "，".join(clauses) + "。", f"{road}{number}号", ctx


def load(rows: int, seed: int = 3) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from hotline.cases.demo_data import TEMPLATES
    from hotline.knowledge import similar
    from hotline.knowledge.models import TicketIndex
    from hotline.knowledge.search import vocabulary

    have = TicketIndex.objects.filter(ticket_id__gte=OFFSET).count()
    if have >= rows:
        print(f"{have:,} index rows already present", file=sys.stderr)
        return
    rng = random.Random(seed)
    now = timezone.now()
    started = time.monotonic()
    variants = []
    for i in range(VARIANTS):
        tpl = rng.choice(TEMPLATES)
        summary_, content, address, ctx = _variant(rng, tpl, rng.choice(ROADS), rng.randint(1, 399))
        words = similar.content_words(summary_, content, address)
        answer = [similar.ANSWER_MARK, *vocabulary.words(tpl.result.format(**ctx))]
        variants.append((" ".join(words), " ".join(words + answer), similar.band_keys(words)))
        if i % 5000 == 4999:
            print(f"\rvariants: {i + 1:,}/{VARIANTS:,}", end="", file=sys.stderr, flush=True)
    print(f"\nvariants segmented in {time.monotonic() - started:.0f} s", file=sys.stderr)
    phones = [f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}" for _ in range(300_000)]
    show = progress("index rows")
    batch = 20_000
    pg = connection.vendor == "postgresql"
    if not pg:
        with connection.cursor() as c:
            c.execute("PRAGMA foreign_keys = OFF")
    done = have
    cols = ["ticket_id", "created_at", "phone", "address_key", "district_id", "category_id", "tokens", "answered",
            "band0", "band1", "band2", "band3", "indexed_at"]
    while done < rows:
        chunk = []
        for i in range(done, min(done + batch, rows)):
            plain, with_answer, bands = rng.choice(variants)
            answered = rng.random() < 0.4
            created = now - dt.timedelta(seconds=rng.uniform(60, 365 * 86400))
            chunk.append((OFFSET + i, created, rng.choice(phones), f"{rng.choice(ROADS)}{rng.randint(1, 399)}号", None, None,
                          with_answer if answered else plain, answered, *bands, now))
        with transaction.atomic():
            with connection.cursor() as c:
                if pg:
                    c.execute("SET LOCAL session_replication_role = replica")
                    with c.cursor.copy(f"COPY knowledge_ticketindex ({', '.join(cols)}) FROM STDIN") as copy:
                        for row in chunk:
                            copy.write_row(row)
                else:
                    c.executemany(f"INSERT INTO knowledge_ticketindex ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                                  [(r[0], connection.ops.adapt_datetimefield_value(r[1]), *r[2:12],
                                    connection.ops.adapt_datetimefield_value(r[12])) for r in chunk])
        done += len(chunk)
        show(done, rows)
    if not pg:
        with connection.cursor() as c:
            c.execute("PRAGMA foreign_keys = ON")
    with connection.cursor() as c:
        c.execute("ANALYZE" if not pg else "ANALYZE knowledge_ticketindex")
    print(f"loaded in {time.monotonic() - started:.0f} s", file=sys.stderr)


def probes(count: int, seed: int = 9) -> list[tuple[int, dict[str, str]]]:
    """Reworded repeats of random recent indexed tickets; their originals get ticket rows."""
    from django.db import transaction
    from django.utils import timezone

    from hotline.cases.demo_data import TEMPLATES
    from hotline.cases.models import Ticket
    from hotline.directory.models import ServiceType, Source
    from hotline.knowledge.models import TicketIndex

    rng = random.Random(seed)
    now = timezone.now()
    recent = list(TicketIndex.objects.filter(ticket_id__gte=OFFSET, created_at__gte=now - dt.timedelta(days=25))
                  .order_by("ticket_id").values_list("ticket_id", "phone", "address_key", "tokens", "created_at")[:200_000])
    picked = rng.sample(recent, min(count, len(recent)))
    source, stype = Source.objects.get(code="phone"), ServiceType.objects.get(code="complaint")
    out = []
    missing = []
    by_words = {}
    for tpl in TEMPLATES:
        by_words.setdefault(tpl.category, tpl)
    for ticket_id, phone, key, tokens, created in picked:
        # Find the template the row was made from by its words, then reword it again.
        tpl = max(TEMPLATES, key=lambda t: len(set(t.content) & set(tokens.replace(" ", ""))))
        road = next((r for r in ROADS if key.startswith(r)), ROADS[0])
        number = int(key[len(road):-1] or 1)
        summary_, content, address, _ = _variant(rng, tpl, road, number)
        same_caller = rng.random() < 0.3
        out.append((ticket_id, {"summary": summary_, "content": content, "address": f"滨江市{address}",
                                "phone": phone if same_caller else f"1{rng.randint(3_000_000_000, 9_999_999_999)}"}))
        missing.append(Ticket(pk=ticket_id, number=f"B{ticket_id}", query_code=f"Q{ticket_id}", status="handling",
                              contact_phone=phone, source=source, service_type=stype, summary=summary_, content=content,
                              address=address, created_at=created))
    existing = set(Ticket.objects.filter(pk__in=[t.pk for t in missing]).values_list("pk", flat=True))
    with transaction.atomic():
        Ticket.objects.bulk_create([t for t in missing if t.pk not in existing], batch_size=500)
    return out


def main() -> None:
    p = arguments(__doc__.splitlines()[0], queries=300)
    p.add_argument("--rows", type=int, default=1_000_000)
    args = p.parse_args()
    where = setup(args)
    started = time.monotonic()
    load(args.rows)
    load_s = time.monotonic() - started
    from django.utils import timezone

    from hotline.knowledge import similar
    from hotline.knowledge.models import TicketIndex

    calls = probes(args.queries)
    now = timezone.now()
    flagged: list[bool] = []
    found_counts: list[int] = []

    def run(call: tuple[int, dict[str, str]]) -> None:
        original, appeal = call
        found = similar.find_duplicates(appeal, now=now, sync=False)
        found_counts.append(len(found))
        flagged.append(any(c.ticket_id == original for c in found))

    ms = measure(calls, run, max_seconds=args.max_seconds)
    print(f"# duplicate check — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d} (UTC) — {machine()}")
    print(f"database: {where}; index rows: {TicketIndex.objects.count():,} (load {load_s:.0f} s this run); "
          f"window {similar.WINDOW_DAYS} days")
    print(summary("find_duplicates (reworded repeat, same address)", ms))
    flagged, found_counts = flagged[-len(ms):], found_counts[-len(ms):]  # without the warm-up calls
    n = len(flagged)
    print(f"original flagged as probable duplicate: {sum(flagged)}/{n} ({sum(flagged) / n:.0%}); "
          f"mean probable candidates per check {sum(found_counts) / n:.2f}")


if __name__ == "__main__":
    main()
