"""The rest of a working hotline's data for bench/web_pages.py: ``hotline gen-tickets``
writes tickets and their timelines only, so without this the supervision and
extension lists, the audit log viewer, the knowledge answers and the ticket page's
call records would be timed almost empty.

Added once (skipped when present), in bulk, in proportion to 200,000 tickets:
open supervisions (督办) on 2,000 running tickets and 500 closed ones, 1,000 pending
extension requests, 1,000,000 audit entries, 5,000 knowledge articles (the knowledge
benchmark's generator, bench/knowledge_search.py) and 100,000 call records, 20,000
of them linked to the newest tickets' ``recording_ref`` as a screen-pop registration
would. Bench data only: written outside the actions, like the ticket generator's.
"""

from __future__ import annotations

import _common as C

CODE = r'''
import datetime as dt, random, sys, time
from django.db import transaction
from django.utils import timezone
from hotline.accounts.models import User
from hotline.audit.models import AuditEntry
from hotline.cases.models import ExtensionRequest, Supervision, Ticket
from hotline.knowledge.models import Article
from hotline.telephony.models import CallRecord

rng = random.Random(2026)
now = timezone.now()
RUNNING = ["dispatched", "signed", "handling", "return_requested"]
done = {}
t0 = time.monotonic()
users = list(User.objects.values_list("id", "username"))
supervisor = User.objects.filter(username="supervisor").values_list("id", flat=True).first()

if Supervision.objects.count() < 2000:
    ids = list(Ticket.objects.filter(status__in=RUNNING).order_by("-id").values_list("id", flat=True)[:20000])
    picked = rng.sample(ids, min(2500, len(ids)))
    rows = [Supervision(ticket_id=i, opened_by_id=supervisor, opened_at=now - dt.timedelta(days=rng.randint(1, 20)),
                        comment=rng.choice(["请加快办理并于三个工作日内反馈进展", "市领导批示件,请主要负责人牵头办理", "群众多次来电,请现场核实"]),
                        closed_at=(now - dt.timedelta(days=rng.randint(0, 5))) if n >= 2000 else None)
            for n, i in enumerate(picked)]
    with transaction.atomic():
        Supervision.objects.bulk_create(rows, batch_size=1000)
    done["supervisions"] = len(rows)

if not ExtensionRequest.objects.filter(status="pending").exists():
    cand = list(Ticket.objects.filter(status__in=["signed", "handling"]).exclude(deadline=None).order_by("-id").values_list("id", "deadline", "handler_id")[:20000])
    rows = []
    for tid, deadline, handler in rng.sample(cand, min(1000, len(cand))):
        rows.append(ExtensionRequest(ticket_id=tid, requested_by_id=handler, requested_at=now - dt.timedelta(hours=rng.randint(1, 72)),
                                     reason="需协调多个部门现场勘查,申请延期", requested_date=(deadline + dt.timedelta(days=rng.randint(7, 30))).date(),
                                     old_deadline=deadline))
    with transaction.atomic():
        ExtensionRequest.objects.bulk_create(rows, batch_size=1000)
    done["pending extension requests"] = len(rows)

have = AuditEntry.objects.count()
if have < 1_000_000:
    actions = ["ticket.register", "ticket.dispatch", "ticket.sign_for", "ticket.reply", "ticket.approve_reply", "ticket.callback",
               "ticket.close", "ticket.urge", "accounts.login", "directory.citizen.update", "telephony.recording_play"]
    top = Ticket.objects.order_by("-id").values_list("id", flat=True).first() or 1
    start = now - dt.timedelta(days=365)
    left = 1_000_000 - have
    while left > 0:
        batch = []
        for _ in range(min(20000, left)):
            uid, uname = rng.choice(users)
            action = rng.choice(actions)
            obj = str(rng.randint(1, top))
            batch.append(AuditEntry(at=start + dt.timedelta(seconds=rng.randint(0, 365 * 86400)), actor_id=uid, actor_name=uname,
                                    ip=f"10.12.{rng.randint(0, 255)}.{rng.randint(1, 254)}", action=action,
                                    object_type="ticket" if action.startswith("ticket") else action.split(".")[0], object_id=obj,
                                    object_repr=f"工单 {obj}", changes=[{"field": "status", "old": "signed", "new": "handling"}]))
        with transaction.atomic():
            AuditEntry.objects.bulk_create(batch, batch_size=2000)
        left -= len(batch)
    done["audit entries"] = 1_000_000 - have

if Article.objects.count() < 5000:
    sys.path.insert(0, BENCH)
    import knowledge_search
    knowledge_search.build(5000, seed=2026)
    done["knowledge articles"] = Article.objects.count()

if CallRecord.objects.count() < 100_000:
    agents = list(User.objects.filter(role__in=[10, 20]).values_list("id", "extension"))
    newest = list(Ticket.objects.order_by("-id").values_list("id", "contact_phone", "created_at")[:100_000])
    rows, linked = [], []
    for n, (tid, phone, created) in enumerate(newest):
        agent, ext = rng.choice(agents) if agents else (None, "")
        offered = created - dt.timedelta(seconds=rng.randint(60, 600))
        talk = rng.uniform(40, 600)
        call_id = f"bench-{tid}@hotline"
        rows.append(CallRecord(call_id=call_id, direction="inbound", caller=phone or "13800000000", callee="12345", trunk="carrier",
                               agent_extension=ext or "", agent_id=agent, offered_at=offered,
                               answered_at=offered + dt.timedelta(seconds=rng.randint(3, 30)),
                               ended_at=offered + dt.timedelta(seconds=talk + 30), duration=talk, hangup_side="caller",
                               recording_path=f"recordings/bench/{tid}.wav"))
        if n < 20000:
            linked.append(tid)
    with transaction.atomic():
        CallRecord.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        for tid in linked:
            Ticket.objects.filter(pk=tid, recording_ref="").update(recording_ref=f"call:bench-{tid}@hotline")
    done["call records"] = len(rows)
    done["tickets linked to a call"] = len(linked)

print(f"extras: {done or 'already present'} in {time.monotonic() - t0:.0f} s")
print(f"present: supervisions {Supervision.objects.count():,} (open {Supervision.objects.filter(closed_at=None).count():,}), "
      f"pending extensions {ExtensionRequest.objects.filter(status='pending').count():,}, audit entries {AuditEntry.objects.count():,}, "
      f"articles {Article.objects.count():,}, call records {CallRecord.objects.count():,}")
'''


def ensure_extras(env: dict[str, str]) -> str:
    return C.django_snippet(env, f"BENCH = {str(C.ROOT / 'bench')!r}\n" + CODE, timeout=3600)
