"""A labelled ticket history written in bulk, for dispatch tests that need
thousands of handled tickets quickly (walking each through the lifecycle would
take minutes). The rows look like the demo city's: the demo's appeal templates,
its districts, one department per template's handling unit."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from hotline.cases.demo_data import ESTATES, TEMPLATES
from hotline.cases.models import Ticket
from hotline.directory.models import Category, Department, DepartmentKind, District, ServiceType, Source
from tests.conftest import MONDAY, make_department

DISTRICTS = [("dongcheng", "东城区", "东华路"), ("xicheng", "西城区", "长安街"), ("nanhu", "南湖区", "滨湖路")]


def departments() -> dict[str, Department]:
    """template.department code -> a department ("street" gets one per district)."""
    city = Department.objects.filter(parent__isnull=True).first() or make_department("hcity", "滨江市人民政府", DepartmentKind.CITY)
    out: dict[str, Department] = {}
    for code in sorted({t.department for t in TEMPLATES if t.department != "street"}):
        out[code] = Department.objects.filter(code=f"h-{code}").first() or make_department(f"h-{code}", f"{code}单位", DepartmentKind.BUREAU, city)
    for d_code, d_name, _ in DISTRICTS:
        District.objects.get_or_create(code=d_code, defaults={"name": d_name})
        out[f"street:{d_code}"] = (Department.objects.filter(code=f"h-street-{d_code}").first()
                                   or make_department(f"h-street-{d_code}", f"{d_name}街道办事处", DepartmentKind.STREET, city))
    return out


def write_history(count: int, *, seed: int = 7, now: dt.datetime = MONDAY, status: str = "closed") -> dict[str, Department]:
    rng = random.Random(seed)
    deps = departments()
    cats = {c.code: c for c in Category.objects.all()}
    types = {t.code: t for t in ServiceType.objects.all()}
    source = Source.objects.get(code="phone")
    districts = {d.code: d for d in District.objects.filter(code__in=[d[0] for d in DISTRICTS])}
    rows: list[Ticket] = []
    for i in range(count):
        tpl = rng.choice(TEMPLATES)
        d_code, d_name, road = rng.choice(DISTRICTS)
        ctx: dict[str, Any] = {"addr": f"{d_name}{road}{rng.randint(1, 300)}号", "road": road, "estate": rng.choice(ESTATES),
                               "district": d_name, "days": "昨天", "n": "2"}
        lead = deps[f"street:{d_code}"] if tpl.department == "street" else deps[tpl.department]
        at = now - dt.timedelta(days=rng.uniform(1, 300))
        rows.append(Ticket(number=f"H{seed:03d}{i:08d}", query_code=f"Q{seed:03d}{i:08d}", status=status, contact_phone=f"139{i:08d}",
                           source=source, service_type=types[tpl.service_type], category=cats[tpl.category],
                           district=districts[d_code], address=ctx["addr"], summary=tpl.summary.format(**ctx)[:200],
                           content=tpl.content.format(**ctx), lead_department=lead, created_at=at, registered_at=at,
                           dispatched_at=at, closed_at=at + dt.timedelta(days=5), result=tpl.result.format(**ctx)))
    Ticket.objects.bulk_create(rows, batch_size=1000)
    return deps
