"""Bulk generator of realistic tickets for benchmarks and load tests (``hotline gen-tickets``).

The demo (``cases.demo_data``) walks a few hundred tickets through the real actions;
that takes ~10 ms a ticket. This module writes the same kind of tickets in bulk
— a million in a few minutes — straight into the tables:

- the vocabulary is the demo's (``demo_data.TEMPLATES``, ``DISTRICTS``, ``SCENARIOS``,
  names and phone prefixes): districts and streets of 滨江市, categories, service types,
  sources, the lead department each kind of appeal goes to, assisting departments;
- each ticket follows one demo scenario (a path through ``lifecycle.TRANSITIONS``) and
  gets one timeline event per step, with plausible actors and times, the dates and
  deadlines of each step computed with the real calendar code (``deadlines.period``,
  ``deadlines.sign_deadline``, ``deadlines.rule_for`` on ``current_calendar()``);
- ticket numbers come from ``cases_ticketsequence`` exactly like the register path:
  one atomic upsert per day reserves a block of numbers, so generated and real
  tickets never collide and the next real ticket of that day continues the sequence;
- query codes are a fixed permutation of the (unique) ticket number over the
  8-character alphabet, so they are unique across runs; the rare clash with a random
  code already in the table is redrawn;
- rows go in batches (PostgreSQL ``COPY``, SQLite ``executemany``), one transaction
  per batch, with bounded memory; one audit row records the run.

Automatic urge flags are left empty: the next ``run_deadline_job`` urges what is due,
as it would after an import. The knowledge app's ``TicketIndex`` is not filled.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from hotline.accounts.models import DEPARTMENT_ROLES, Role, User
from hotline.audit import actions as audit
from hotline.cases import deadlines, demo_data
from hotline.cases.bulk import reserve_ids, write_rows
from hotline.cases.actions import QUERY_CODE_ALPHABET, QUERY_CODE_LENGTH
from hotline.cases.models import Status, Ticket
from hotline.cases.workdays import current_calendar
from hotline.directory import parameters
from hotline.directory.models import Category, Citizen, Department, District, ServiceType, Source

S = Status
UTC = dt.timezone.utc

#: Scenarios (demo_data.SCENARIOS) whose ticket ends where a department holds it and
#: the deadline runs: what ``--open-share`` controls.
OPEN_SCENARIOS = frozenset({"dispatched", "signed", "handling", "return_requested", "reopened_handling"})
#: Scenarios that end finished: their tickets are spread over the whole period.
FINISHED_SCENARIOS = frozenset({"closed", "resolved_closed", "reopened_closed", "closed_dissatisfied", "merged",
                                "voided", "not_accepted"})

TICKET_COLUMNS = (
    "id", "number", "query_code", "status", "citizen_id", "citizen_name", "contact_phone", "confidential",
    "source_id", "service_type_id", "category_id", "district_id", "address", "longitude", "latitude",
    "summary", "content", "urgency", "leader_instruction", "lead_department_id", "handler_id",
    "registered_by_id", "created_at", "registered_at", "dispatched_at", "signed_at", "replied_at", "closed_at",
    "updated_at", "sign_deadline", "deadline_start", "deadline_days", "deadline", "warn_at", "deadline_fixed",
    "urged_sign_at", "urged_yellow_at", "urged_red_at", "urge_count", "result", "satisfaction", "recording_ref",
    "merged_into_id", "reopen_count", "version",
)
EVENT_COLUMNS = ("ticket_id", "at", "kind", "actor_id", "actor_name", "actor_department_id", "from_status",
                 "to_status", "comment", "data")
ASSIST_COLUMNS = ("ticket_id", "department_id", "opinion")
TICKET_DATETIMES = ("created_at", "registered_at", "dispatched_at", "signed_at", "replied_at", "closed_at", "updated_at",
                    "sign_deadline", "deadline_start", "deadline", "warn_at")
CITIZEN_COLUMNS = ("id", "name", "phone", "other_phones", "id_number", "address", "tags", "blacklisted",
                   "blacklist_until", "blacklist_reason", "created_at")

# Query codes: code = (A * key + B) mod 30^8 with key unique per ticket number.
_CODE_SPACE = len(QUERY_CODE_ALPHABET) ** QUERY_CODE_LENGTH
_CODE_A = 48_271_007_773  # not divisible by 2, 3 or 5: a bijection of Z/30^8
_CODE_B = 271_828_182_845
_EPOCH = dt.date(2000, 1, 1).toordinal()

# District centres for plausible coordinates (滨江市 is fictional; near 120.2E 30.2N).
_CENTRES = [(120.21, 30.26), (120.15, 30.27), (120.25, 30.18), (120.12, 30.35), (120.30, 30.22)]

OPINIONS = ["我单位已派员配合现场核查，将按职责做好协办工作。", "已配合主办单位完成现场联合检查。"]
ACTOR_COMMENTS = {
    "dispatch": "请按职责办理并按时回复。",
    "assign": "请尽快现场核实处理。",
    "approve_reply": "办理结果清楚，同意办结。",
    "accept_return": "同意退回，重新派单。",
    "void": "话务员重复登记，作废。",
    "not_accept": "诉求内容属于民事纠纷，已在法院审理中，按规定不予受理。",
    "reopen": "回访不满意，问题未实际解决，重新交办。",
}
CALLBACK_COMMENTS = {"satisfied": "市民对办理结果表示满意。", "basically": "市民表示问题基本解决，希望加强日常管理。",
                     "unreachable": "三次回访均无人接听。", "dissatisfied": "市民表示问题未解决，对答复不认可。"}


class GeneratorError(Exception):
    """The database lacks what the generator needs (a clear message for the CLI)."""


def query_code_for(number: str) -> str:
    """The query code of a generated ticket: a fixed bijection of its number."""
    day = dt.date(int(number[:4]), int(number[4:6]), int(number[6:8]))
    seq = int(number[8:])
    if seq >= 1_000_000:
        raise GeneratorError("more than 999,999 tickets on one day")
    n = (_CODE_A * ((day.toordinal() - _EPOCH) * 1_000_000 + seq) + _CODE_B) % _CODE_SPACE
    out = []
    for _ in range(QUERY_CODE_LENGTH):
        n, r = divmod(n, len(QUERY_CODE_ALPHABET))
        out.append(QUERY_CODE_ALPHABET[r])
    return "".join(out)


def _random_code(rng: random.Random) -> str:
    return "".join(rng.choice(QUERY_CODE_ALPHABET) for _ in range(QUERY_CODE_LENGTH))


# --- what the generator needs from the database -----------------------------------------------


@dataclass
class Actor:
    id: int
    name: str
    department_id: int | None


@dataclass
class World:
    sources: dict[str, int]
    service_types: dict[str, int]
    categories: dict[str, int]
    districts: dict[str, int]
    #: district code -> (street department ids), road names
    streets: dict[str, list[int]]
    roads: dict[str, list[str]]
    bureaus: dict[str, int]
    dept_names: dict[int, str]
    #: department id -> (handler, manager) acting for it (itself or its nearest ancestor)
    handlers: dict[int, Actor]
    managers: dict[int, Actor]
    center: dict[str, Actor]
    templates: list[demo_data.Template] = field(default_factory=list)


def _actor(u: User) -> Actor:
    return Actor(u.pk, str(u), u.department_id)


def ensure_world(now: dt.datetime) -> World:
    """Load the dictionary, the departments of 滨江市 and the users who act on tickets;
    build the demo city (departments and accounts, no tickets) when it is missing."""
    if not Source.objects.exists():
        raise GeneratorError("the data dictionary is empty: run `hotline migrate` first")
    if not demo_data.demo_present():
        if Department.objects.filter(code__in=[b[0] for b in demo_data.BUREAUS]).exists():
            raise GeneratorError("departments of 滨江市 exist without the city: run `hotline demo` in an empty data dir")
        with transaction.atomic():
            city = demo_data.build_city()
            demo_data.create_users(city, now)
        demo_data.write_users_file(city)
    depts = {d.code: d for d in Department.objects.all()}
    users = {u.username: u for u in User.objects.filter(is_active=True)}
    need = [name for name, *_ in demo_data.USER_SPECS if name not in ("admin", "auditor")]
    missing = [n for n in need if n not in users]
    if missing:
        raise GeneratorError(f"demo accounts missing: {', '.join(missing)} (run `hotline demo`)")
    by_dept: dict[int, dict[int, User]] = collections.defaultdict(dict)
    for u in users.values():
        if u.role in DEPARTMENT_ROLES and u.department_id:
            by_dept[u.department_id].setdefault(u.role, u)
    by_id = {d.pk: d for d in depts.values()}

    def nearest(dept_id: int, role: Role) -> Actor | None:
        d: Department | None = by_id[dept_id]
        while d is not None:
            if role in by_dept.get(d.pk, {}):
                return _actor(by_dept[d.pk][role])
            d = by_id.get(d.parent_id) if d.parent_id else None
        return None

    handlers: dict[int, Actor] = {}
    managers: dict[int, Actor] = {}
    for d in depts.values():
        h = nearest(d.pk, Role.DEPT_HANDLER)
        if h is not None:
            handlers[d.pk] = h
            managers[d.pk] = nearest(d.pk, Role.DEPT_MANAGER) or h
    streets: dict[str, list[int]] = {}
    for code, _name, _roads, street_specs in demo_data.DISTRICTS:
        streets[code] = [depts[s[0]].pk for s in street_specs if s[0] in depts]
    bureaus = {code: depts[code].pk for code, *_ in demo_data.BUREAUS if code in depts}
    world = World(
        sources=dict(Source.objects.values_list("code", "pk")),
        service_types=dict(ServiceType.objects.values_list("code", "pk")),
        categories=dict(Category.objects.values_list("code", "pk")),
        districts=dict(District.objects.values_list("code", "pk")),
        streets=streets,
        roads={code: roads for code, _n, roads, _s in demo_data.DISTRICTS},
        bureaus=bureaus,
        dept_names={d.pk: d.name for d in depts.values()},
        handlers=handlers,
        managers=managers,
        center={k: _actor(users[k]) for k in ("calltaker", "teamleader", "dispatcher", "supervisor", "inspector")},
    )
    world.templates = [
        t for t in demo_data.TEMPLATES
        if t.category in world.categories and t.service_type in world.service_types
        and (t.department == "street" or t.department in bureaus)
    ]
    if not world.templates or not all(world.streets.values()) or not world.districts:
        raise GeneratorError("the dictionary or the departments of 滨江市 are incomplete (run `hotline demo`)")
    return world


# --- writing rows -------------------------------------------------------------------------------


def reserve_numbers(per_day: dict[dt.date, int]) -> dict[dt.date, int]:
    """Reserve a block of ticket numbers per day in ``cases_ticketsequence`` (the
    register path's counter); returns the first sequence value of each block."""
    first: dict[dt.date, int] = {}
    with connection.cursor() as cursor:
        for day, n in sorted(per_day.items()):
            cursor.execute(
                "INSERT INTO cases_ticketsequence (day, last) VALUES (%s, %s) "
                "ON CONFLICT (day) DO UPDATE SET last = cases_ticketsequence.last + excluded.last RETURNING last",
                [day, n],
            )
            (last,) = cursor.fetchone()
            first[day] = last - n + 1
    return first


# --- one ticket -------------------------------------------------------------------------------

# (event kind, from, to, actor key, gap after the previous step in hours (lo, hi))
Step = tuple[str, str, str, str, tuple[float, float]]
_CREATE: Step = ("create", "", S.DRAFT, "calltaker", (0, 0))
_REGISTER: Step = ("register", S.DRAFT, S.REGISTERED, "calltaker", (0, 0))


def _path(scenario: str) -> list[Step]:
    """The steps of one demo scenario, each a transition of ``lifecycle.TRANSITIONS``."""
    if scenario == "draft":
        return [_CREATE]
    if scenario in ("resolved", "resolved_closed"):
        steps = [_CREATE, ("resolve_on_spot", S.DRAFT, S.RESOLVED, "calltaker", (0.05, 0.2))]
        if scenario == "resolved_closed":
            steps += [("callback", S.RESOLVED, S.CALLED_BACK, "calltaker", (2, 30)),
                      ("close", S.CALLED_BACK, S.CLOSED, "teamleader", (0.5, 24))]
        return steps
    reg = [_CREATE, _REGISTER]
    if scenario == "registered":
        return reg
    if scenario == "not_accepted":
        return reg + [("not_accept", S.REGISTERED, S.NOT_ACCEPTED, "calltaker", (0.05, 0.5))]
    if scenario == "voided":
        return reg + [("void", S.REGISTERED, S.VOIDED, "teamleader", (0.1, 2))]
    if scenario == "merged":
        return reg + [("merge", S.REGISTERED, S.MERGED, "calltaker", (0.05, 1))]
    dispatch: Step = ("dispatch", S.REGISTERED, S.DISPATCHED, "dispatcher", (0.1, 2))
    if scenario in ("return_requested", "returned"):
        steps = reg + [dispatch, ("request_return", S.DISPATCHED, S.RETURN_REQUESTED, "handler", (1, 20))]
        if scenario == "returned":
            steps.append(("accept_return", S.RETURN_REQUESTED, S.RETURNED, "dispatcher", (0.5, 8)))
        return steps
    steps = reg + [dispatch]
    if scenario == "dispatched":
        return steps
    if scenario == "handling":
        return steps + [("sign_for", S.DISPATCHED, S.SIGNED, "manager", (0.5, 6)),
                        ("assign", S.SIGNED, S.HANDLING, "manager", (0.2, 3))]
    steps.append(("sign_for", S.DISPATCHED, S.SIGNED, "handler", (0.5, 10)))
    if scenario == "signed":
        return steps
    replied = [("reply", S.SIGNED, S.REPLIED, "handler", (20, 150)),
               ("approve_reply", S.REPLIED, S.REVIEWED, "dispatcher", (1, 20))]
    steps.append(replied[0])
    if scenario == "replied":
        return steps
    steps.append(replied[1])
    if scenario == "reviewed":
        return steps
    callback: Step = ("callback", S.REVIEWED, S.CALLED_BACK, "calltaker", (2, 30))
    close: Step = ("close", S.CALLED_BACK, S.CLOSED, "teamleader", (0.5, 24))
    steps.append(callback)
    if scenario == "called_back":
        return steps
    if scenario in ("reopened_handling", "reopened_closed"):
        steps.append(("reopen", S.CALLED_BACK, S.HANDLING, "teamleader", (0.5, 8)))
        if scenario == "reopened_handling":
            return steps
        return steps + [("reply", S.HANDLING, S.REPLIED, "handler", (10, 80)), replied[1], callback, close]
    return steps + [close]  # closed, closed_dissatisfied


PATHS: dict[str, list[Step]] = {name: _path(name) for name in demo_data.SCENARIOS}


def scenario_weights(open_share: float | None) -> dict[str, float]:
    """The demo's scenario weights, with the open ones scaled to ``open_share``."""
    weights = {k: float(v) for k, v in demo_data.SCENARIOS.items()}
    if open_share is None:
        return weights
    open_total = sum(v for k, v in weights.items() if k in OPEN_SCENARIOS)
    rest_total = sum(v for k, v in weights.items() if k not in OPEN_SCENARIOS)
    return {k: (v / open_total * open_share if k in OPEN_SCENARIOS else v / rest_total * (1 - open_share))
            for k, v in weights.items()}


@dataclass
class Options:
    count: int
    now: dt.datetime
    seed: int = 2026
    #: share of tickets at a department with a running deadline; None: the demo's mix
    open_share: float | None = 0.08
    days: int = 365
    batch: int = 5000


class Generator:
    def __init__(self, world: World, opts: Options) -> None:
        self.w, self.o = world, opts
        self.rng = random.Random(opts.seed)
        self.calendar = current_calendar()
        self.warn_share = float(parameters.get("warn_share"))
        self.deadline_time = deadlines._deadline_time()
        self.reopen_days = int(parameters.get("reopen_days"))
        self.rules: dict[tuple[int, int | None], deadlines.Rule] = {}
        self.periods: dict[tuple[dt.date, int], deadlines.Period] = {}
        self.sign_deadlines: dict[tuple[dt.date, int], dt.datetime] = {}
        weights = scenario_weights(opts.open_share)
        self.scenarios = [k for k, v in weights.items() if v > 0]
        self.cum_weights = list(itertools.accumulate([weights[k] for k in self.scenarios]))
        self.originals: collections.deque[int] = collections.deque(maxlen=2000)
        self.tz = timezone.get_current_timezone()
        self.counts: collections.Counter[str] = collections.Counter()
        self.new_citizens = 0
        self.seconds: collections.Counter[str] = collections.Counter()
        self.district_codes = list(world.streets)
        self.district_names = {d[0]: d[1] for d in demo_data.DISTRICTS}
        self.consults = [t for t in world.templates if t.answer]

    # -- calendar, cached: a year has few distinct (day, days) pairs ----------------------

    def rule(self, service_type_id: int, category_id: int | None) -> deadlines.Rule:
        key = (service_type_id, category_id)
        if key not in self.rules:
            self.rules[key] = deadlines.rule_for(service_type_id, category_id)
        return self.rules[key]

    def period(self, start: dt.datetime, days: int) -> deadlines.Period:
        key = (start.astimezone(self.tz).date(), days)
        p = self.periods.get(key)
        if p is None:
            p = self.periods[key] = deadlines.period(start, days, self.calendar, warn_share=self.warn_share,
                                                     deadline_time=self.deadline_time)
        return p

    def sign_deadline(self, start: dt.datetime, days: int) -> dt.datetime:
        key = (start.astimezone(self.tz).date(), days)
        d = self.sign_deadlines.get(key)
        if d is None:
            d = self.sign_deadlines[key] = deadlines.sign_deadline(start, days, self.calendar, self.deadline_time)
        return d

    # -- times ---------------------------------------------------------------------------------

    def created_at(self, scenario: str) -> dt.datetime:
        rng = self.rng
        lo, hi = demo_data.AGE_DAYS.get(scenario, demo_data.DEFAULT_AGE)
        if scenario in FINISHED_SCENARIOS:
            hi = max(self.o.days, lo + 1)
        hi = min(hi, self.o.days)
        lo = min(lo, hi)
        local_now = self.o.now.astimezone(self.tz)
        day = local_now.date() - dt.timedelta(days=int(rng.uniform(lo, hi)))
        # Most appeals arrive between 8:00 and 21:00.
        seconds = rng.uniform(8 * 3600, 21 * 3600)
        t = dt.datetime.combine(day, dt.time(0), self.tz) + dt.timedelta(seconds=seconds)
        cap = self.o.now - dt.timedelta(minutes=5)
        if t > cap:
            t = cap - dt.timedelta(seconds=rng.uniform(0, 6 * 3600))
        return t

    def times(self, start: dt.datetime, steps: list[Step]) -> list[dt.datetime]:
        """One moment per step, in order, the last no later than a minute before now."""
        offsets, total = [], 0.0
        for step in steps:
            lo, hi = step[4]
            total += self.rng.uniform(lo, hi) * 3600 if hi else 0.0
            offsets.append(total)
        room = (self.o.now - dt.timedelta(minutes=1) - start).total_seconds()
        scale = room / total if total > room and total > 0 else 1.0
        return [start + dt.timedelta(seconds=o * scale) for o in offsets]

    # -- one ticket ---------------------------------------------------------------------------

    def ticket(self, tid: int, number: str, code: str, scenario: str, created: dt.datetime,
               citizen: tuple[int, str, str], events: list[tuple[Any, ...]], assists: list[tuple[Any, ...]]) -> tuple[Any, ...]:
        rng, w = self.rng, self.w
        tpl = rng.choice(w.templates)
        district = rng.choice(self.district_codes)
        road = rng.choice(w.roads[district])
        district_name = self.district_names[district]
        estate = rng.choice(demo_data.ESTATES)
        addr = f"{district_name}{road}{rng.randint(1, 399)}号"
        ctx = {"addr": addr, "road": road, "estate": estate, "district": district_name,
               "days": rng.choice(["前天", "三天前", "上周五", "昨天上午"]), "n": str(rng.randint(2, 4))}
        summary = tpl.summary.format(**ctx)[:200]
        content = tpl.content.format(**ctx)
        source = rng.choices(["phone", "web", "wechat", "sms", "mayor_mail", "voicemail"], [70, 10, 10, 3, 4, 3])[0]
        source_id = w.sources.get(source) or next(iter(w.sources.values()))
        urgency = "urgent" if tpl.category in ("gas.leak", "municipal.drain", "water.pipe") else ("urgent" if rng.random() < 0.08 else "normal")
        st_id, cat_id = w.service_types[tpl.service_type], w.categories[tpl.category]
        if tpl.department == "street":
            lead = rng.choice(w.streets[district])
        else:
            lead = w.bureaus[tpl.department]
        if scenario in ("resolved", "resolved_closed") and not tpl.answer:
            if self.consults:
                tpl = rng.choice(self.consults)
                st_id, cat_id = w.service_types[tpl.service_type], w.categories[tpl.category]
                summary, content = tpl.summary.format(**ctx)[:200], tpl.content.format(**ctx)
        cx, cy = _CENTRES[self.district_codes.index(district) % len(_CENTRES)]
        lon, lat = f"{cx + rng.uniform(-0.04, 0.04):.6f}", f"{cy + rng.uniform(-0.03, 0.03):.6f}"

        steps = PATHS[scenario]
        merged_into = None
        if scenario == "merged":
            if self.originals:
                merged_into = self.originals[int(rng.random() * len(self.originals))]
            else:  # nothing to merge into yet
                steps, scenario = PATHS["registered"], "registered"
        when = self.times(created, steps)
        f: dict[str, Any] = {
            "registered_at": None, "dispatched_at": None, "signed_at": None, "replied_at": None, "closed_at": None,
            "sign_deadline": None, "deadline_start": None, "deadline_days": None, "deadline": None, "warn_at": None,
            "lead_department_id": None, "handler_id": None, "result": "", "satisfaction": "", "reopen_count": 0,
        }
        rule = self.rule(st_id, cat_id)
        actors = w.center
        version = 0
        for (kind, frm, to, who, _gap), at in zip(steps, when):
            data: dict[str, Any] = {}
            comment = ACTOR_COMMENTS.get(kind, "")
            dept = f["lead_department_id"]
            if who in ("handler", "manager"):
                actor = (w.managers if who == "manager" else w.handlers).get(dept) if dept else None
                actor = actor or actors["dispatcher"]
            elif kind == "approve_reply" and rng.random() < 0.3:
                actor = actors["inspector"]
            else:
                actor = actors[who]
            if kind == "register":
                f["registered_at"] = at
            elif kind == "resolve_on_spot":
                f["registered_at"] = f["replied_at"] = at
                f["result"] = comment = tpl.answer.format(**ctx) if tpl.answer else tpl.result.format(**ctx)
            elif kind == "dispatch":
                if scenario in ("return_requested", "returned"):
                    wrong = [b for c, b in w.bureaus.items() if c != tpl.department]
                    dept = rng.choice(wrong)
                else:
                    dept = lead
                f["lead_department_id"], f["dispatched_at"] = dept, at
                f["registered_at"] = f["registered_at"] or at
                p = self.period(at, rule.handle_days)
                f["deadline_start"], f["deadline_days"], f["deadline"], f["warn_at"] = at, p.days, p.deadline, p.warn_at
                f["sign_deadline"] = self.sign_deadline(at, rule.sign_days)
                assisting = []
                if rng.random() < 1 / 6 and scenario not in ("return_requested", "returned"):
                    helper = rng.choice([b for b in w.bureaus.values() if b != dept])
                    assisting = [w.dept_names[helper]]
                    assists.append((tid, helper, rng.choice(OPINIONS) if to != S.DISPATCHED else ""))
                data = {"lead_department": w.dept_names[dept], "assisting_departments": assisting,
                        "deadline": p.deadline.isoformat()}
            elif kind == "sign_for":
                f["signed_at"] = at
                if who == "handler":
                    f["handler_id"] = actor.id
            elif kind == "assign":
                handler = w.handlers.get(dept)
                f["handler_id"] = handler.id if handler else None
                data = {"handler": handler.name if handler else ""}
            elif kind == "request_return":
                comment = demo_data.RETURN_REASONS[0].format(other=w.dept_names[lead])
            elif kind == "accept_return":
                data = {"returned_by": w.dept_names[dept]} if dept else {}
                f["lead_department_id"] = f["handler_id"] = None
                f["deadline"] = f["warn_at"] = f["sign_deadline"] = None
            elif kind == "reply":
                f["replied_at"] = at
                f["result"] = comment = tpl.result.format(**ctx)
                data = {"on_time": f["deadline"] is None or at <= f["deadline"]}
            elif kind == "callback":
                if scenario in ("reopened_handling", "closed_dissatisfied") or (scenario == "reopened_closed" and f["reopen_count"] == 0):
                    sat = "dissatisfied"
                elif scenario == "reopened_closed":
                    sat = "satisfied"
                else:
                    sat = rng.choices(["satisfied", "basically", "unreachable"], [75, 21, 4])[0]
                f["satisfaction"], comment = sat, CALLBACK_COMMENTS[sat]
                data = {"satisfaction": sat}
            elif kind == "close":
                f["closed_at"] = at
                if f["satisfaction"] == "dissatisfied":
                    comment = "经核实部门已按政策答复到位，市民诉求超出政策范围，作不满意办结。"
            elif kind == "reopen":
                data = {"previous_satisfaction": f["satisfaction"]}
                f["reopen_count"] += 1
                f["satisfaction"], f["closed_at"], f["replied_at"] = "", None, None
                p = self.period(at, self.reopen_days)
                f["deadline_start"], f["deadline_days"], f["deadline"], f["warn_at"] = at, p.days, p.deadline, p.warn_at
            elif kind == "merge":
                data = {"original": merged_into}
                comment = "与原工单诉求相同，合并处理。"
            if kind != "create":
                version += 1
            events.append((tid, at, kind, actor.id, actor.name, actor.department_id, frm or S.DRAFT, to, comment,
                           json.dumps(data, ensure_ascii=False) if data else "{}"))
        status = steps[-1][2]
        self.counts[status] += 1
        if status in (S.CLOSED,):
            self.originals.append(tid)
        citizen_id, citizen_name, phone = citizen
        return (
            tid, number, code, status, citizen_id, citizen_name, phone,
            tpl.service_type == "report" and rng.random() < 0.3,
            source_id, st_id, cat_id, w.districts.get(district), addr, lon, lat,
            summary, content, urgency, "", f["lead_department_id"], f["handler_id"],
            actors["calltaker"].id, created, f["registered_at"], f["dispatched_at"], f["signed_at"], f["replied_at"],
            f["closed_at"], when[-1], f["sign_deadline"], f["deadline_start"], f["deadline_days"], f["deadline"],
            f["warn_at"], False, None, None, None, 0, f["result"], f["satisfaction"], "", merged_into,
            f["reopen_count"], version,
        )

    # -- citizens ----------------------------------------------------------------------------

    def citizens(self, count: int) -> list[tuple[int, str, str]]:
        """``count`` callers as (id, name, phone): one citizen per phone, so a phone some
        citizen already has (an earlier run, the demo, real registrations) reuses that
        citizen; only the new phones are written. Looked up in chunks, written in bulk."""
        rng = self.rng
        people: dict[str, str] = {}
        while len(people) < count:
            phone = rng.choice(demo_data.PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            people.setdefault(phone, rng.choice(demo_data.SURNAMES) + rng.choice(demo_data.GIVEN))
        phones = list(people)
        known: dict[str, tuple[int, str]] = {}
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # No registration may add one of these phones between the look-up and the
                # COPY (SQLite: the transaction already holds the write lock).
                with connection.cursor() as cursor:
                    cursor.execute("LOCK TABLE directory_citizen IN SHARE ROW EXCLUSIVE MODE")
            for i in range(0, len(phones), 2000):
                for pk, name, phone in Citizen.objects.filter(phone__in=phones[i:i + 2000]).values_list("id", "name", "phone"):
                    known[phone] = (pk, name)
            new = [phone for phone in phones if phone not in known]
            ids = reserve_ids("directory_citizen", len(new)) if new else []
            rows = [(i, people[phone], phone, "[]", "", "", "[]", False, None, "", self.o.now) for i, phone in zip(ids, new)]
            write_rows("directory_citizen", CITIZEN_COLUMNS, rows, ("blacklist_until", "created_at"))
        self.new_citizens = len(new)
        known.update((phone, (i, people[phone])) for i, phone in zip(ids, new))
        return [(known[phone][0], known[phone][1] or people[phone], phone) for phone in phones]

    # -- the run -------------------------------------------------------------------------------

    def run(self, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        o, rng = self.o, self.rng
        pool = self.citizens(min(max(o.count // 5, 50), 50_000)) if o.count else []
        done = 0
        events_total = 0
        while done < o.count:
            n = min(o.batch, o.count - done)
            picks = rng.choices(self.scenarios, cum_weights=self.cum_weights, k=n)
            plan = sorted(((self.created_at(s), s) for s in picks), key=lambda x: x[0])
            per_day = collections.Counter(t.astimezone(self.tz).date() for t, _ in plan)
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    # Bulk data: a crash may lose the last batches, never corrupt them; no WAL flush wait.
                    with connection.cursor() as cursor:
                        cursor.execute("SET LOCAL synchronous_commit TO off")
                ids = reserve_ids("cases_ticket", n)
                first = reserve_numbers(dict(per_day))
                numbers = []
                for t, _ in plan:
                    day = t.astimezone(self.tz).date()
                    numbers.append(f"{day:%Y%m%d}{first[day]:05d}")
                    first[day] += 1
                codes = [query_code_for(num) for num in numbers]
                taken = set(Ticket.objects.filter(query_code__in=codes).values_list("query_code", flat=True))
                for i, c in enumerate(codes):
                    while c in taken:  # a random code of a real ticket: draw another
                        c = _random_code(rng)
                        if not Ticket.objects.filter(query_code=c).exists():
                            codes[i] = c
                            break
                events: list[tuple[Any, ...]] = []
                assists: list[tuple[Any, ...]] = []
                t0 = time.perf_counter()
                rows = [self.ticket(tid, num, code, s, t, pool[int(rng.random() * len(pool))], events, assists)
                        for tid, num, code, (t, s) in zip(ids, numbers, codes, plan)]
                t1 = time.perf_counter()
                write_rows("cases_ticket", TICKET_COLUMNS, rows, TICKET_DATETIMES)
                write_rows("cases_ticketassist", ASSIST_COLUMNS, assists)
                t2 = time.perf_counter()
                write_rows("cases_ticketevent", EVENT_COLUMNS, events, ("at",))
                t3 = time.perf_counter()
                self.seconds["build"] += t1 - t0
                self.seconds["write tickets"] += t2 - t1
                self.seconds["write events"] += t3 - t2
                events_total += len(events)
            done += n
            if progress:
                progress(done, o.count)
        if o.count:
            audit.record(None, "ticket.generate", None, object_type="cases.ticket", object_repr=f"{o.count} generated tickets",
                         changes=[{"field": "count", "old": None, "new": o.count},
                                  {"field": "seed", "old": None, "new": o.seed}], at=o.now)
        if connection.vendor == "postgresql" and o.count >= 10_000:
            with connection.cursor() as cursor:
                for table in ("cases_ticket", "cases_ticketevent", "cases_ticketassist", "directory_citizen"):
                    cursor.execute(f"ANALYZE {table}")
        return {"tickets": o.count, "events": events_total, "citizens": len(pool), "new_citizens": self.new_citizens,
                "by_status": dict(self.counts),
                "seconds": {k: round(v, 1) for k, v in self.seconds.items()}}


def check_columns() -> None:
    """The column lists above must match the models (a changed model fails loudly)."""
    from hotline.cases.models import TicketAssist, TicketEvent
    from hotline.directory.models import Citizen

    for model, cols, skip in ((Ticket, TICKET_COLUMNS, set()), (TicketEvent, EVENT_COLUMNS, {"id"}),
                              (TicketAssist, ASSIST_COLUMNS, {"id"}), (Citizen, CITIZEN_COLUMNS, set())):
        have = {f.column for f in model._meta.concrete_fields} - skip
        if have != set(cols):
            raise GeneratorError(f"{model.__name__}: generator columns differ from the model: {sorted(have ^ set(cols))}")


def generate(count: int, *, now: dt.datetime, seed: int = 2026, open_share: float | None = 0.08, days: int = 365,
             batch: int = 5000, progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Add ``count`` generated tickets; returns counts by status, events and citizens."""
    if count < 0:
        raise GeneratorError("count must be 0 or more")
    if open_share is not None and not 0 <= open_share <= 1:
        raise GeneratorError("open share must be between 0 and 1")
    if days < 1:
        raise GeneratorError("days must be at least 1")
    if not 1 <= batch <= 100_000:
        raise GeneratorError("batch must be 1..100000")
    check_columns()
    world = ensure_world(now)
    return Generator(world, Options(count, now, seed, open_share, days, batch)).run(progress)
