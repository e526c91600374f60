"""Administration of the data dictionary and of citizens' records.

Every write is one ``do_*`` function: it checks access (``directory.access``) and
input (``check_*``: ``InvalidInput`` naming every bad field and its rule), then
changes the rows and appends the audit row (``audit.record``) in one transaction.
The API, the CLI and the demo call these and nothing else.

Changes that move deadlines — holiday overrides, deadline rules and the parameters in
``parameters.DEADLINE_KEYS`` — recompute the deadlines of open tickets
(``cases.deadlines.recompute_open_deadlines``, one ``deadline_changed`` timeline
event per ticket that moved). Up to ``recompute_inline_max`` open tickets this
happens inside the same transaction, so the caller sees the result at once and a
failure leaves nothing half-written; above it the change commits first and the
worker's ``recompute_deadlines`` task does the work (a large database must not hold
the write lock, or the administrator's request, for minutes).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import F, Max, Q, Value
from django.db.models.fields.reverse_related import ForeignObjectRel
from django.db.models.functions import Cast, Concat, Length, Substr
from django.utils import timezone

from hotline.accounts.models import User
from hotline.audit import actions as audit
from hotline.cases import cache
from hotline.directory import access, calendar_import, parameters
from hotline.directory.models import (
    Category,
    Citizen,
    DeadlineRule,
    Department,
    DepartmentKind,
    District,
    HolidayOverride,
    Parameter,
    ServiceType,
    Source,
)
from hotline.lib.errors import InvalidInput, NotFound
from hotline.lib.validation import text as _text

Errors = list[dict[str, Any]]

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\-]{4,19}$")
ID_NUMBER_RE = re.compile(r"^[0-9]{17}[0-9Xx]$")
PATH_MAX = Department._meta.get_field("path").max_length or 255

MAX_HANDLE_DAYS = 365
MAX_SIGN_DAYS = 30
MAX_TAGS = 20
TAG_MAX = 32
MAX_OTHER_PHONES = 10

#: Blacklist durations offered to call-takers; ``None`` is permanent.
BLACKLIST_PRESETS: dict[str, dt.timedelta | None] = {
    "5min": dt.timedelta(minutes=5),
    "30min": dt.timedelta(minutes=30),
    "permanent": None,
}


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


# --- input helpers ----------------------------------------------------------------------




def _int(data: Mapping[str, Any], field: str, errors: Errors, lo: int, hi: int, *, rule: str = "range") -> int | None:
    value = data.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append({"field": field, "rule": "type", "message": f"{field} must be a whole number"})
        return None
    if not lo <= value <= hi:
        errors.append({"field": field, "rule": rule, "message": f"{field} must be between {lo} and {hi}"})
        return None
    return value


def _bool(data: Mapping[str, Any], field: str, errors: Errors) -> bool:
    value = data.get(field)
    if not isinstance(value, bool):
        errors.append({"field": field, "rule": "type", "message": f"{field} must be true or false"})
        return False
    return value


def _code(data: Mapping[str, Any], errors: Errors, model: type[models.Model], instance: models.Model | None) -> str:
    code = _text(data, "code", errors, required=True, max_length=32)
    if code and not CODE_RE.match(code):
        errors.append({"field": "code", "rule": "code_format", "message": "code: letters, digits, '.', '_' or '-' (max 32)"})
    elif code:
        taken = model._default_manager.filter(code=code)  # type: ignore[attr-defined]
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors.append({"field": "code", "rule": "unique", "message": f"code {code!r} is already used"})
    return code


def _ref(model: type[models.Model], value: Any, field: str, errors: Errors, *, active_only: bool = True) -> Any:
    """An entry by id (a number) or code (text); ``None`` for empty."""
    if value in (None, ""):
        return None
    qs = model._default_manager.all()  # type: ignore[attr-defined]
    if active_only and hasattr(model, "active"):
        qs = qs.filter(active=True)
    if isinstance(value, bool):
        obj = None
    elif isinstance(value, int):
        obj = qs.filter(pk=value).first()
    else:
        obj = qs.filter(code=str(value)).first()
    if obj is None:
        errors.append({"field": field, "rule": "exists", "message": f"{field}: no {'active ' if active_only else ''}entry {value!r}"})
    return obj


def _unknown(data: Mapping[str, Any], allowed: set[str], errors: Errors) -> None:
    for name in sorted(set(data) - allowed):
        errors.append({"field": name, "rule": "unknown_field", "message": f"unknown field {name}"})


def _raise(errors: Errors) -> None:
    if errors:
        raise InvalidInput.many(errors)


def references(obj: models.Model) -> list[str]:
    """Which tables refer to ``obj`` (tickets, users, rules, child entries, ...).
    Walks every reverse relation, hidden ones (``related_name='+'``) included."""
    found = []
    for rel in obj._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel):
            continue
        related = rel.related_model
        if related is None or isinstance(related, str):
            continue
        if related._default_manager.filter(**{rel.field.name: obj}).exists():  # type: ignore[union-attr]
            found.append(related._meta.label_lower)  # type: ignore[union-attr]
    return sorted(set(found))


def _get(model: type[models.Model], pk: int, what: str, *, for_update: bool = False) -> Any:
    qs = model._default_manager.all()  # type: ignore[attr-defined]
    if for_update:
        qs = qs.select_for_update(no_key=True)  # rows referring to it (tickets) are not blocked
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{what} not found")
    return obj


# --- recomputing deadlines ---------------------------------------------------------------


def recompute_after_change(reason: str, now: dt.datetime) -> dict[str, Any]:
    """Recompute open deadlines now (inside the caller's transaction) when there are at
    most ``recompute_inline_max`` open tickets; otherwise queue the worker's task to run
    after the commit. Returns what was done, for the answer and the audit row."""
    from hotline.cases import tasks
    from hotline.cases.deadlines import RUNNING_STATES, recompute_open_deadlines
    from hotline.cases.models import Status, Ticket

    open_states = list(RUNNING_STATES | {Status.REPLIED})
    limit = int(parameters.get("recompute_inline_max"))
    count = Ticket.objects.filter(status__in=open_states, deadline_start__isnull=False)[: limit + 1].count()
    if count <= limit:
        changed = recompute_open_deadlines(reason, now)
        return {"mode": "inline", "changed": changed}
    tasks.enqueue_recompute(reason)
    return {"mode": "queued", "changed": None}


def _recompute_change(result: dict[str, Any]) -> dict[str, Any]:
    return {"field": "recompute", "old": None, "new": result}


# --- departments --------------------------------------------------------------------------

DEPARTMENT_FIELDS = ["code", "name", "kind", "parent", "duty", "phone", "can_handle", "active", "sort"]
_DEPARTMENT_INPUT = set(DEPARTMENT_FIELDS)


def check_department(actor: User, data: Mapping[str, Any], instance: Department | None = None) -> dict[str, Any]:
    """Validate department input (all fields on create, the given ones on update)."""
    access.require_dictionary_admin(actor)
    errors: Errors = []
    _unknown(data, _DEPARTMENT_INPUT, errors)
    creating = instance is None
    out: dict[str, Any] = {}
    if creating or "code" in data:
        out["code"] = _code(data, errors, Department, instance)
    if creating or "name" in data:
        out["name"] = _text(data, "name", errors, required=True, max_length=100)
    if creating or "kind" in data:
        kind = data.get("kind")
        if kind not in DepartmentKind.values:
            errors.append({"field": "kind", "rule": "choice", "message": f"kind must be one of {DepartmentKind.values}"})
        out["kind"] = kind
    if "parent" in data:
        parent = _ref(Department, data.get("parent"), "parent", errors)
        if parent is not None and instance is not None and (parent.pk == instance.pk or parent.path.startswith(instance.path)):
            errors.append({"field": "parent", "rule": "cycle", "message": "a department cannot move under itself or its own sub-department"})
        out["parent"] = parent
    if "duty" in data:
        out["duty"] = _text(data, "duty", errors, max_length=4000)
    if "phone" in data:
        out["phone"] = _text(data, "phone", errors, max_length=64)
    for flag in ("can_handle", "active"):
        if flag in data:
            out[flag] = _bool(data, flag, errors)
    if "sort" in data:
        out["sort"] = _int(data, "sort", errors, -1_000_000, 1_000_000)
    _raise(errors)
    return out


def _move(dept: Department, parent: Department | None) -> int:
    """Re-hang ``dept`` under ``parent``: one UPDATE rewrites ``path``/``depth`` of the
    whole subtree (prefix replaced). Returns the number of rows moved."""
    old_path = dept.path
    new_path = f"{parent.path if parent else ''}{dept.pk:06d}."
    if new_path == old_path:
        return 0
    subtree = Department.objects.filter(path__startswith=old_path)
    list(subtree.select_for_update(no_key=True).values_list("pk", flat=True))  # lock the subtree
    deepest = subtree.aggregate(m=Max(Length("path")))["m"] or len(old_path)
    if deepest - len(old_path) + len(new_path) > PATH_MAX:
        raise InvalidInput("parent", "max_depth", "the tree would become too deep under that parent")
    delta = new_path.count(".") - old_path.count(".")
    moved = subtree.update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1), output_field=models.CharField()),
        depth=F("depth") + delta,
    )
    Department.objects.filter(pk=dept.pk).update(parent=parent)
    cache.bump(cache.DICTIONARY, cache.AUTH)  # bulk UPDATEs send no signals: empty the caches
    return moved


def do_create_department(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Department:
    when = _now(now)
    fields = check_department(actor, {"parent": None, **data})
    with transaction.atomic():
        dept = Department(**fields)
        dept.save()
        dept.compute_path()
        if len(dept.path) > PATH_MAX:
            raise InvalidInput("parent", "max_depth", "the tree would become too deep under that parent")
        dept.save(update_fields=["path", "depth"])
        audit.record(actor, "department.create", dept, changes=audit.diff({}, audit.snapshot(dept, DEPARTMENT_FIELDS + ["path"])), at=when)
    return dept


def do_update_department(actor: User, dept_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Department:
    """Change a department; a new ``parent`` moves it with its whole subtree (the data
    scope of department users follows: it is the ``path`` prefix)."""
    when = _now(now)
    access.require_dictionary_admin(actor)
    with transaction.atomic():
        if "parent" in data:
            # Moves take the root rows' locks first, so two concurrent moves cannot each
            # pass the cycle check against the other's old paths (PostgreSQL; SQLite's
            # IMMEDIATE transactions serialise writers anyway). NO KEY: tickets referring
            # to these departments are not blocked.
            list(Department.objects.select_for_update(no_key=True).filter(parent__isnull=True).order_by("pk").values_list("pk"))
        dept = _get(Department, dept_id, "department", for_update=True)
        fields = check_department(actor, data, dept)
        before = audit.snapshot(dept, DEPARTMENT_FIELDS + ["path"])
        parent_given = "parent" in fields
        parent = fields.pop("parent", None)
        for key, value in fields.items():
            setattr(dept, key, value)
        if fields:
            dept.save(update_fields=list(fields))
        moved = 0
        if parent_given and (parent.pk if parent else None) != dept.parent_id:
            moved = _move(dept, parent)
        dept.refresh_from_db()
        changes = audit.diff(before, audit.snapshot(dept, DEPARTMENT_FIELDS + ["path"]))
        if moved:
            changes.append({"field": "subtree_moved", "old": None, "new": moved})
        audit.record(actor, "department.move" if moved else "department.update", dept, changes=changes, at=when)
    return dept


def _deactivate_subtree(qs: Any, actor: User, action: str, obj: Any, when: dt.datetime, refs: list[str]) -> dict[str, Any]:
    """Deactivate the rows of ``qs`` (the entry, and its subtree for trees): one audit row."""
    ids = list(qs.filter(active=True).values_list("pk", flat=True))
    qs.filter(pk__in=ids).update(active=False)
    cache.bump(cache.DICTIONARY, cache.AUTH)  # bulk UPDATEs send no signals: empty the caches
    audit.record(
        actor, action, obj, at=when,
        changes=[{"field": "active", "old": obj.active, "new": False},
                 {"field": "deactivated_ids", "old": None, "new": ids},
                 {"field": "referenced_by", "old": None, "new": refs}],
    )
    return {"deleted": False, "deactivated": ids, "referenced_by": refs}


def do_remove_department(actor: User, dept_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Delete a department nothing refers to; otherwise deactivate it with its subtree
    (tickets, users and sub-departments keep pointing at it)."""
    when = _now(now)
    access.require_dictionary_admin(actor)
    with transaction.atomic():
        dept = _get(Department, dept_id, "department", for_update=True)
        refs = references(dept)
        if refs:
            return _deactivate_subtree(Department.objects.filter(path__startswith=dept.path), actor, "department.deactivate", dept, when, refs)
        before = audit.snapshot(dept, DEPARTMENT_FIELDS + ["path"])
        audit.record(actor, "department.delete", dept, changes=audit.diff(before, {k: None for k in before}), at=when)
        dept.delete()
    return {"deleted": True, "deactivated": [], "referenced_by": []}


def department_tree(actor: User, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    """The whole tree, nested (``children``), from one query ordered by path."""
    access.require_dictionary_reader(actor)
    qs = Department.objects.all() if include_inactive else Department.objects.filter(active=True)
    nodes: dict[int, dict[str, Any]] = {}
    roots: list[dict[str, Any]] = []
    for d in qs.order_by("path"):
        node = department_out(d) | {"children": []}
        nodes[d.pk] = node
        parent = nodes.get(d.parent_id) if d.parent_id else None
        (parent["children"] if parent is not None else roots).append(node)
    for node in nodes.values():
        node["children"].sort(key=lambda n: (n["sort"], n["code"]))
    roots.sort(key=lambda n: (n["sort"], n["code"]))
    return roots


def list_departments(actor: User, *, q: str | None = None, kind: str | None = None, under: int | None = None,
                     include_inactive: bool = False) -> list[Department]:
    access.require_dictionary_reader(actor)
    qs = Department.objects.all() if include_inactive else Department.objects.filter(active=True)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(duty__icontains=q))
    if kind:
        qs = qs.filter(kind=kind)
    if under is not None:
        root = _get(Department, under, "department")
        qs = qs.filter(path__startswith=root.path)
    return list(qs.order_by("path"))


def get_department(actor: User, dept_id: int) -> Department:
    access.require_dictionary_reader(actor)
    return _get(Department, dept_id, "department")  # type: ignore[no-any-return]


def department_out(d: Department) -> dict[str, Any]:
    return {
        "id": d.pk, "code": d.code, "name": d.name, "kind": d.kind, "kind_label": str(DepartmentKind(d.kind).label) if d.kind in DepartmentKind.values else d.kind,
        "parent_id": d.parent_id, "path": d.path, "depth": d.depth, "duty": d.duty, "phone": d.phone,
        "can_handle": d.can_handle, "active": d.active, "sort": d.sort,
    }


# --- categories (two levels) ------------------------------------------------------------

CATEGORY_FIELDS = ["code", "name", "parent", "active", "sort"]


def check_category(actor: User, data: Mapping[str, Any], instance: Category | None = None) -> dict[str, Any]:
    access.require_dictionary_admin(actor)
    errors: Errors = []
    _unknown(data, set(CATEGORY_FIELDS), errors)
    creating = instance is None
    out: dict[str, Any] = {}
    if creating or "code" in data:
        out["code"] = _code(data, errors, Category, instance)
    if creating or "name" in data:
        out["name"] = _text(data, "name", errors, required=True, max_length=100)
    if "parent" in data:
        parent = _ref(Category, data.get("parent"), "parent", errors)
        if parent is not None:
            if instance is not None and parent.pk == instance.pk:
                errors.append({"field": "parent", "rule": "cycle", "message": "a category cannot be its own parent"})
            elif parent.parent_id is not None:
                errors.append({"field": "parent", "rule": "two_levels", "message": "categories have two levels: the parent must be a top-level category"})
            elif instance is not None and instance.children.exists():
                errors.append({"field": "parent", "rule": "two_levels", "message": "a category with sub-categories cannot become a sub-category"})
        out["parent"] = parent
    if "active" in data:
        out["active"] = _bool(data, "active", errors)
    if "sort" in data:
        out["sort"] = _int(data, "sort", errors, -1_000_000, 1_000_000)
    _raise(errors)
    return out


def do_create_category(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Category:
    when = _now(now)
    fields = check_category(actor, {"parent": None, **data})
    with transaction.atomic():
        cat = Category.objects.create(**fields)
        audit.record(actor, "category.create", cat, changes=audit.diff({}, audit.snapshot(cat, CATEGORY_FIELDS)), at=when)
    return cat


def do_update_category(actor: User, category_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Category:
    when = _now(now)
    access.require_dictionary_admin(actor)
    with transaction.atomic():
        cat = _get(Category, category_id, "category", for_update=True)
        fields = check_category(actor, data, cat)
        before = audit.snapshot(cat, CATEGORY_FIELDS)
        for key, value in fields.items():
            setattr(cat, key, value)
        cat.save()
        changes = audit.diff(before, audit.snapshot(cat, CATEGORY_FIELDS))
        result = None
        if any(c["field"] == "parent" for c in changes):
            # Rules may be keyed on the parent category: a moved sub-category may get another rule.
            result = recompute_after_change(f"分类调整: {cat.name}", when)
            changes.append(_recompute_change(result))
        audit.record(actor, "category.update", cat, changes=changes, at=when)
    return cat


def do_remove_category(actor: User, category_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    when = _now(now)
    access.require_dictionary_admin(actor)
    with transaction.atomic():
        cat = _get(Category, category_id, "category", for_update=True)
        refs = references(cat)
        if refs:
            return _deactivate_subtree(Category.objects.filter(Q(pk=cat.pk) | Q(parent=cat)), actor, "category.deactivate", cat, when, refs)
        before = audit.snapshot(cat, CATEGORY_FIELDS)
        audit.record(actor, "category.delete", cat, changes=audit.diff(before, {k: None for k in before}), at=when)
        cat.delete()
    return {"deleted": True, "deactivated": [], "referenced_by": []}


def category_out(c: Category) -> dict[str, Any]:
    return {"id": c.pk, "code": c.code, "name": c.name, "parent_id": c.parent_id, "active": c.active, "sort": c.sort}


def category_tree(actor: User, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    access.require_dictionary_reader(actor)
    qs = Category.objects.all() if include_inactive else Category.objects.filter(active=True)
    rows = list(qs.order_by("sort", "code"))
    tops = [category_out(c) | {"children": []} for c in rows if c.parent_id is None]
    by_id = {t["id"]: t for t in tops}
    for c in rows:
        if c.parent_id is not None and c.parent_id in by_id:
            by_id[c.parent_id]["children"].append(category_out(c))
    return tops


# --- flat entries: service types, sources, districts ---------------------------------------

ENTRY_MODELS: dict[str, type[models.Model]] = {"service_type": ServiceType, "source": Source, "district": District}
ENTRY_FIELDS = ["code", "name", "active", "sort"]


def _entry_model(kind: str) -> type[models.Model]:
    if kind not in ENTRY_MODELS:
        raise NotFound(f"no dictionary {kind!r}")
    return ENTRY_MODELS[kind]


def _entry_fields(kind: str) -> list[str]:
    return ENTRY_FIELDS + (["department"] if kind == "district" else [])


def check_entry(actor: User, kind: str, data: Mapping[str, Any], instance: Any = None) -> dict[str, Any]:
    access.require_dictionary_admin(actor)
    model = _entry_model(kind)
    errors: Errors = []
    _unknown(data, set(_entry_fields(kind)), errors)
    out: dict[str, Any] = {}
    if instance is None or "code" in data:
        out["code"] = _code(data, errors, model, instance)
    if instance is None or "name" in data:
        out["name"] = _text(data, "name", errors, required=True, max_length=100)
    if "active" in data:
        out["active"] = _bool(data, "active", errors)
    if "sort" in data:
        out["sort"] = _int(data, "sort", errors, -1_000_000, 1_000_000)
    if kind == "district" and "department" in data:
        out["department"] = _ref(Department, data.get("department"), "department", errors)
    _raise(errors)
    return out


def do_create_entry(actor: User, kind: str, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Any:
    when = _now(now)
    fields = check_entry(actor, kind, data)
    model = _entry_model(kind)
    with transaction.atomic():
        obj = model._default_manager.create(**fields)  # type: ignore[attr-defined]
        audit.record(actor, f"{kind}.create", obj, changes=audit.diff({}, audit.snapshot(obj, _entry_fields(kind))), at=when)
    return obj


def do_update_entry(actor: User, kind: str, entry_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Any:
    when = _now(now)
    access.require_dictionary_admin(actor)
    model = _entry_model(kind)
    with transaction.atomic():
        obj = _get(model, entry_id, kind.replace("_", " "), for_update=True)
        fields = check_entry(actor, kind, data, obj)
        before = audit.snapshot(obj, _entry_fields(kind))
        for key, value in fields.items():
            setattr(obj, key, value)
        obj.save()
        audit.record(actor, f"{kind}.update", obj, changes=audit.diff(before, audit.snapshot(obj, _entry_fields(kind))), at=when)
    return obj


def do_remove_entry(actor: User, kind: str, entry_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    when = _now(now)
    access.require_dictionary_admin(actor)
    model = _entry_model(kind)
    with transaction.atomic():
        obj = _get(model, entry_id, kind.replace("_", " "), for_update=True)
        refs = references(obj)
        if refs:
            return _deactivate_subtree(model._default_manager.filter(pk=obj.pk), actor, f"{kind}.deactivate", obj, when, refs)  # type: ignore[attr-defined]
        before = audit.snapshot(obj, _entry_fields(kind))
        audit.record(actor, f"{kind}.delete", obj, changes=audit.diff(before, {k: None for k in before}), at=when)
        obj.delete()
    return {"deleted": True, "deactivated": [], "referenced_by": []}


def list_entries(actor: User, kind: str, *, include_inactive: bool = False) -> list[Any]:
    access.require_dictionary_reader(actor)
    qs = _entry_model(kind)._default_manager.all()  # type: ignore[attr-defined]
    if not include_inactive:
        qs = qs.filter(active=True)
    return list(qs.order_by("sort", "code"))


# --- deadline rules -----------------------------------------------------------------------

RULE_FIELDS = ["service_type", "category", "handle_days", "sign_days"]


def check_deadline_rule(actor: User, data: Mapping[str, Any], instance: DeadlineRule | None = None) -> dict[str, Any]:
    """(service type, category) — either may be empty for "any" — and positive day
    counts; one rule per pair, the (any, any) rule included."""
    access.require_dictionary_admin(actor, "change deadline rules")
    errors: Errors = []
    _unknown(data, set(RULE_FIELDS), errors)
    out: dict[str, Any] = {}
    creating = instance is None
    if creating or "service_type" in data:
        out["service_type"] = _ref(ServiceType, data.get("service_type"), "service_type", errors, active_only=False)
    if creating or "category" in data:
        out["category"] = _ref(Category, data.get("category"), "category", errors, active_only=False)
    if creating or "handle_days" in data:
        out["handle_days"] = _int(data, "handle_days", errors, 1, MAX_HANDLE_DAYS, rule="positive_days")
    if "sign_days" in data or creating:
        if creating and "sign_days" not in data:
            out["sign_days"] = int(parameters.get("fallback_sign_days"))
        else:
            out["sign_days"] = _int(data, "sign_days", errors, 1, MAX_SIGN_DAYS, rule="positive_days")
    if not any(e["field"] in ("service_type", "category") for e in errors):
        st = out["service_type"] if "service_type" in out else (instance.service_type if instance else None)
        cat = out["category"] if "category" in out else (instance.category if instance else None)
        clash = DeadlineRule.objects.filter(service_type=st, category=cat)
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            errors.append({"field": "service_type" if cat is None and st is not None else "category",
                           "rule": "unique", "message": f"a rule for ({cat or '*'}, {st or '*'}) exists already: change that one"})
    _raise(errors)
    return out


def rule_out(r: DeadlineRule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "service_type": {"id": r.service_type_id, "code": r.service_type.code, "name": r.service_type.name} if r.service_type_id and r.service_type else None,
        "category": {"id": r.category_id, "code": r.category.code, "name": str(r.category)} if r.category_id and r.category else None,
        "handle_days": r.handle_days,
        "sign_days": r.sign_days,
    }


def do_create_deadline_rule(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> tuple[DeadlineRule, dict[str, Any]]:
    when = _now(now)
    fields = check_deadline_rule(actor, data)
    with transaction.atomic():
        # The (any, any) pair has no unique index (NULLs are distinct): serialise creators.
        list(DeadlineRule.objects.select_for_update().filter(service_type__isnull=True, category__isnull=True))
        fields = check_deadline_rule(actor, data)
        rule = DeadlineRule.objects.create(**fields)
        result = recompute_after_change(f"时限规则新增: {rule}", when)
        changes = audit.diff({}, audit.snapshot(rule, RULE_FIELDS)) + [_recompute_change(result)]
        audit.record(actor, "deadline_rule.create", rule, changes=changes, at=when)
    return rule, result


def do_update_deadline_rule(actor: User, rule_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> tuple[DeadlineRule, dict[str, Any]]:
    when = _now(now)
    access.require_dictionary_admin(actor, "change deadline rules")
    with transaction.atomic():
        rule = _get(DeadlineRule, rule_id, "deadline rule", for_update=True)
        fields = check_deadline_rule(actor, data, rule)
        before = audit.snapshot(rule, RULE_FIELDS)
        for key, value in fields.items():
            setattr(rule, key, value)
        rule.save()
        result = recompute_after_change(f"时限规则调整: {rule}", when)
        changes = audit.diff(before, audit.snapshot(rule, RULE_FIELDS)) + [_recompute_change(result)]
        audit.record(actor, "deadline_rule.update", rule, changes=changes, at=when)
    return rule, result


def do_delete_deadline_rule(actor: User, rule_id: int, *, now: dt.datetime | None = None) -> dict[str, Any]:
    when = _now(now)
    access.require_dictionary_admin(actor, "change deadline rules")
    with transaction.atomic():
        rule = _get(DeadlineRule, rule_id, "deadline rule", for_update=True)
        before = audit.snapshot(rule, RULE_FIELDS)
        text, pk = str(rule), rule.pk
        rule.delete()
        result = recompute_after_change(f"时限规则删除: {text}", when)
        changes = audit.diff(before, {k: None for k in before}) + [_recompute_change(result)]
        audit.record(actor, "deadline_rule.delete", None, object_type="directory.deadlinerule", object_id=str(pk),
                     object_repr=text, changes=changes, at=when)
    return result


def list_deadline_rules(actor: User) -> list[DeadlineRule]:
    access.require_dictionary_reader(actor)
    return list(DeadlineRule.objects.select_related("service_type", "category", "category__parent")
                .order_by(F("category__code").asc(nulls_first=True), F("service_type__sort").asc(nulls_first=True)))


# --- holiday overrides --------------------------------------------------------------------


def _holiday_value(o: HolidayOverride | None) -> dict[str, Any] | None:
    return None if o is None else {"is_workday": o.is_workday, "name": o.name}


def holiday_out(o: HolidayOverride) -> dict[str, Any]:
    return {"date": o.date, "is_workday": o.is_workday, "name": o.name, "weekday": o.date.isoweekday()}


def check_holiday(actor: User, data: Mapping[str, Any]) -> tuple[bool, str]:
    access.require_dictionary_admin(actor, "change the holiday calendar")
    errors: Errors = []
    _unknown(data, {"is_workday", "name"}, errors)
    is_workday = calendar_import.parse_workday(data["is_workday"]) if "is_workday" in data and data["is_workday"] is not None else None
    if is_workday is None:
        errors.append({"field": "is_workday", "rule": "choice", "message": "is_workday must be true (working day) or false (day off)"})
    name = _text(data, "name", errors, max_length=calendar_import.NAME_MAX)
    _raise(errors)
    return bool(is_workday), name


def _check_day(day: dt.date) -> None:
    lo, hi = calendar_import.YEARS
    if not lo <= day.year <= hi:
        raise InvalidInput("date", "year_range", f"years {lo}..{hi} only")


def do_set_holiday(actor: User, day: dt.date, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> tuple[HolidayOverride, dict[str, Any]]:
    """State that ``day`` is a working day (调休) or a day off, whatever the package says."""
    when = _now(now)
    is_workday, name = check_holiday(actor, data)
    _check_day(day)
    with transaction.atomic():
        row = HolidayOverride.objects.select_for_update().filter(date=day).first()
        old = _holiday_value(row)
        if row is None:
            row = HolidayOverride(date=day)
        row.is_workday, row.name = is_workday, name
        row.save()
        result = recompute_after_change(f"节假日调整: {day} {'班' if is_workday else '休'} {name}".strip(), when)
        audit.record(actor, "holiday.set", row, object_repr=str(day), at=when,
                     changes=[{"field": day.isoformat(), "old": old, "new": _holiday_value(row)}, _recompute_change(result)])
    return row, result


def do_delete_holiday(actor: User, day: dt.date, *, now: dt.datetime | None = None) -> dict[str, Any]:
    when = _now(now)
    access.require_dictionary_admin(actor, "change the holiday calendar")
    with transaction.atomic():
        row = HolidayOverride.objects.select_for_update().filter(date=day).first()
        if row is None:
            raise NotFound(f"no holiday override on {day}")
        old, pk = _holiday_value(row), row.pk
        row.delete()
        result = recompute_after_change(f"节假日调整: {day} 恢复默认", when)
        audit.record(actor, "holiday.delete", None, object_type="directory.holidayoverride", object_id=str(pk),
                     object_repr=str(day), at=when,
                     changes=[{"field": day.isoformat(), "old": old, "new": None}, _recompute_change(result)])
    return result


def check_holiday_import(actor: User | None, *, text: str | None = None, days: Sequence[Mapping[str, Any]] | None = None,
                         year: int | None = None) -> calendar_import.Schedule:
    """``actor`` None is the machine's operator (``hotline import-holidays``)."""
    if actor is not None:
        access.require_dictionary_admin(actor, "import the holiday calendar")
    if year is not None and not (calendar_import.YEARS[0] <= year <= calendar_import.YEARS[1]):
        raise InvalidInput("year", "year_range", f"years {calendar_import.YEARS[0]}..{calendar_import.YEARS[1]} only")
    if (text is None) == (days is None):
        raise InvalidInput("text", "one_of", "send either text (lines date,is_workday,name) or days (a list of objects)")
    if text is not None:
        return calendar_import.parse_lines(text, year=year)
    return calendar_import.parse_days(days or [], year=year)


def do_import_holidays(actor: User | None, *, text: str | None = None, days: Sequence[Mapping[str, Any]] | None = None,
                       year: int | None = None, replace: bool = False, now: dt.datetime | None = None) -> dict[str, Any]:
    """Load a year's schedule, all or nothing: any bad line rejects the whole import
    (422 listing every bad line). With ``replace`` the overrides of the years in the
    import (or of ``year``) that the import does not mention are removed."""
    when = _now(now)
    schedule = check_holiday_import(actor, text=text, days=days, year=year)
    years = sorted({year} if year is not None else {d.year for d in schedule})
    with transaction.atomic():
        existing = {o.date: o for o in HolidayOverride.objects.select_for_update().filter(date__year__in=years)}
        changes: list[dict[str, Any]] = []
        created: list[HolidayOverride] = []
        updated = unchanged = 0
        for day, (is_workday, name) in sorted(schedule.items()):
            row = existing.get(day)  # every day of the schedule lies in ``years``
            if row is None:
                created.append(HolidayOverride(date=day, is_workday=is_workday, name=name))
                changes.append({"field": day.isoformat(), "old": None, "new": {"is_workday": is_workday, "name": name}})
            elif (row.is_workday, row.name) != (is_workday, name):
                old = _holiday_value(row)
                row.is_workday, row.name = is_workday, name
                row.save()
                updated += 1
                changes.append({"field": day.isoformat(), "old": old, "new": _holiday_value(row)})
            else:
                unchanged += 1
        HolidayOverride.objects.bulk_create(created)
        deleted = 0
        if replace:
            stale = [o for d, o in existing.items() if d not in schedule]
            for o in stale:
                changes.append({"field": o.date.isoformat(), "old": _holiday_value(o), "new": None})
            deleted, _ = HolidayOverride.objects.filter(pk__in=[o.pk for o in stale]).delete()
        result: dict[str, Any] = {"mode": "none", "changed": 0}
        if changes:
            result = recompute_after_change(f"节假日安排导入: {', '.join(map(str, years))}", when)
        summary = {"years": years, "created": len(created), "updated": updated, "unchanged": unchanged,
                   "deleted": deleted, "recompute": result}
        audit.record(actor, "holiday.import", None, object_type="directory.holidayoverride",
                     object_id=",".join(map(str, years)), object_repr=f"holiday schedule {', '.join(map(str, years))}",
                     changes=changes + [{"field": "summary", "old": None, "new": summary}], at=when)
    return summary


def list_holidays(actor: User, year: int | None = None) -> list[HolidayOverride]:
    access.require_dictionary_reader(actor)
    qs = HolidayOverride.objects.all()
    if year is not None:
        qs = qs.filter(date__year=year)
    return list(qs.order_by("date"))


def calendar_coverage(actor: User, years: str | Sequence[int] | None, now: dt.datetime) -> list[dict[str, Any]]:
    """Coverage of ``years`` (a list, or comma-separated text; default this year and next)."""
    access.require_dictionary_reader(actor)
    this_year = timezone.localtime(now).year
    if isinstance(years, str):
        try:
            years = [int(y) for y in years.replace("，", ",").split(",") if y.strip()]
        except ValueError:
            raise InvalidInput("years", "format", "years: comma-separated years, e.g. 2026,2027") from None
    wanted = list(years) if years else [this_year, this_year + 1]
    lo, hi = calendar_import.YEARS
    for y in wanted:
        if not lo <= y <= hi:
            raise InvalidInput("years", "year_range", f"years {lo}..{hi} only")
    if len(wanted) > 20:
        raise InvalidInput("years", "max_items", "at most 20 years at once")
    return list(calendar_import.calendar_coverage(wanted).values())


# --- parameters ---------------------------------------------------------------------------


def check_parameter(actor: User, key: str, value: Any) -> Any:
    """The value, coerced to the parameter's type, or InvalidInput naming the rule."""
    access.require_dictionary_admin(actor, "change system parameters")
    if key not in parameters.RULES:
        raise NotFound(f"no parameter {key!r}")
    kind, valid, text = parameters.RULES[key]
    ok_type = (
        (kind is bool and isinstance(value, bool))
        or (kind is int and isinstance(value, int) and not isinstance(value, bool))
        or (kind is float and isinstance(value, (int, float)) and not isinstance(value, bool))
        or (kind is str and isinstance(value, str))
    )
    if not ok_type:
        raise InvalidInput("value", "type", f"{key} must be of type {kind.__name__}")
    value = kind(value)
    if kind is float and value != value:  # NaN
        raise InvalidInput("value", "range", f"{key} {text}")
    if not valid(value):
        raise InvalidInput("value", "format" if kind is str else "range", f"{key} {text}")
    return value


def _after_parameter_change(key: str, when: dt.datetime) -> dict[str, Any] | None:
    if key in parameters.DEADLINE_KEYS:
        return recompute_after_change(f"系统参数调整: {key}", when)
    return None


def do_set_parameter(actor: User, key: str, value: Any, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Set a parameter; the next request or job reads it (no restart)."""
    when = _now(now)
    value = check_parameter(actor, key, value)
    with transaction.atomic():
        old = parameters.get(key)
        row, _ = Parameter.objects.select_for_update().get_or_create(key=key, defaults={"value": value})
        row.value = value
        row.save()
        changes = [{"field": key, "old": old, "new": value}]
        result = _after_parameter_change(key, when) if old != value else None
        if result is not None:
            changes.append(_recompute_change(result))
        audit.record(actor, "parameter.set", row, object_repr=key, changes=changes, at=when)
    return parameter_out(key) | {"recompute": result}


def do_reset_parameter(actor: User, key: str, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """Back to the default of ``parameters.DEFAULTS``."""
    when = _now(now)
    access.require_dictionary_admin(actor, "change system parameters")
    if key not in parameters.RULES:
        raise NotFound(f"no parameter {key!r}")
    with transaction.atomic():
        old = parameters.get(key)
        deleted, _ = Parameter.objects.filter(key=key).delete()
        changes = [{"field": key, "old": old, "new": parameters.DEFAULTS[key]}]
        result = _after_parameter_change(key, when) if old != parameters.DEFAULTS[key] else None
        if result is not None:
            changes.append(_recompute_change(result))
        audit.record(actor, "parameter.reset", None, object_type="directory.parameter", object_id=key, object_repr=key,
                     changes=changes, at=when)
    return parameter_out(key) | {"recompute": result}


def parameter_out(key: str) -> dict[str, Any]:
    kind, _, text = parameters.RULES[key]
    row = Parameter.objects.filter(key=key).first()
    return {"key": key, "value": parameters.DEFAULTS[key] if row is None else row.value, "default": parameters.DEFAULTS[key],
            "is_default": row is None, "type": kind.__name__, "rule": text, "updated_at": row.updated_at if row else None}


def list_parameters(actor: User) -> list[dict[str, Any]]:
    access.require_dictionary_reader(actor)
    return [parameter_out(key) for key in parameters.RULES]


# --- citizens -----------------------------------------------------------------------------

CITIZEN_FIELDS = ["name", "phone", "other_phones", "id_number", "address", "tags"]
BLACKLIST_FIELDS = ["blacklisted", "blacklist_until", "blacklist_reason"]
PHONE_TAKEN = {"field": "phone", "rule": "unique", "message": "another citizen has this phone: look them up and edit that record"}


def normalise_phone(value: str) -> str:
    return value.replace(" ", "").strip()


def check_citizen(actor: User, data: Mapping[str, Any], instance: Citizen | None = None) -> dict[str, Any]:
    access.require_citizen_editor(actor)
    errors: Errors = []
    _unknown(data, set(CITIZEN_FIELDS), errors)
    creating = instance is None
    out: dict[str, Any] = {}
    if creating or "phone" in data:
        phone = normalise_phone(_text(data, "phone", errors, required=True, max_length=32))
        if phone and not PHONE_RE.match(phone):
            errors.append({"field": "phone", "rule": "phone_format", "message": "phone must be 5-20 digits"})
        elif phone:
            taken = Citizen.objects.filter(phone=phone)
            if instance is not None:
                taken = taken.exclude(pk=instance.pk)
            if taken.exists():
                errors.append(dict(PHONE_TAKEN))
        out["phone"] = phone
    if "other_phones" in data:
        value = data.get("other_phones") or []
        phones: list[str] = []
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            errors.append({"field": "other_phones", "rule": "type", "message": "other_phones must be a list of phone numbers"})
        elif len(value) > MAX_OTHER_PHONES:
            errors.append({"field": "other_phones", "rule": "max_items", "message": f"at most {MAX_OTHER_PHONES} other phones"})
        else:
            for i, p in enumerate(value):
                p = normalise_phone(p)
                if not PHONE_RE.match(p):
                    errors.append({"field": f"other_phones[{i}]", "rule": "phone_format", "message": "phone must be 5-20 digits"})
                elif p not in phones:
                    phones.append(p)
        out["other_phones"] = phones
    if "name" in data:
        out["name"] = _text(data, "name", errors, max_length=64)
    if "address" in data:
        out["address"] = _text(data, "address", errors, max_length=255)
    if "id_number" in data:
        idn = _text(data, "id_number", errors, max_length=18)
        if idn and not ID_NUMBER_RE.match(idn):
            errors.append({"field": "id_number", "rule": "id_number_format", "message": "id_number must be 18 characters (17 digits + digit or X)"})
        out["id_number"] = idn.upper()
    if "tags" in data:
        value = data.get("tags") or []
        tags: list[str] = []
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            errors.append({"field": "tags", "rule": "type", "message": "tags must be a list of text"})
        elif len(value) > MAX_TAGS:
            errors.append({"field": "tags", "rule": "max_items", "message": f"at most {MAX_TAGS} tags"})
        else:
            for i, t in enumerate(value):
                t = t.strip()
                if not t or len(t) > TAG_MAX:
                    errors.append({"field": f"tags[{i}]", "rule": "length", "message": f"a tag has 1..{TAG_MAX} characters"})
                elif t not in tags:
                    tags.append(t)
        out["tags"] = tags
    _raise(errors)
    return out


def _phone_taken(exc: IntegrityError) -> bool:
    """Is this the unique constraint on the phone (PostgreSQL names the constraint,
    SQLite the column)?"""
    text = str(exc)
    return "citizen_phone_unique" in text or "directory_citizen.phone" in text


def do_create_citizen(actor: User, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Citizen:
    """``check_citizen`` tells a taken phone up front; a citizen with that phone written
    by someone else since (another editor, a registration) hits ``citizen_phone_unique``
    and gets the same answer, with nothing written."""
    when = _now(now)
    fields = check_citizen(actor, data)
    try:
        with transaction.atomic():
            citizen = Citizen.objects.create(**fields)
            audit.record(actor, "citizen.create", citizen, changes=audit.diff({}, audit.snapshot(citizen, CITIZEN_FIELDS)), at=when)
    except IntegrityError as exc:
        if _phone_taken(exc):
            raise InvalidInput.many([dict(PHONE_TAKEN)]) from None
        raise
    return citizen


def do_update_citizen(actor: User, citizen_id: int, data: Mapping[str, Any], *, now: dt.datetime | None = None) -> Citizen:
    when = _now(now)
    access.require_citizen_editor(actor)
    try:
        with transaction.atomic():
            citizen = access.get_visible_citizen(actor, citizen_id, for_update=True)
            fields = check_citizen(actor, data, citizen)
            before = audit.snapshot(citizen, CITIZEN_FIELDS)
            for key, value in fields.items():
                setattr(citizen, key, value)
            citizen.save()
            audit.record(actor, "citizen.update", citizen, changes=audit.diff(before, audit.snapshot(citizen, CITIZEN_FIELDS)), at=when)
    except IntegrityError as exc:
        if _phone_taken(exc):
            raise InvalidInput.many([dict(PHONE_TAKEN)]) from None
        raise
    return citizen


def check_blacklist(actor: User, preset: Any, reason: Any, until: Any, now: dt.datetime) -> tuple[dt.datetime | None, str]:
    access.require_citizen_editor(actor, "keep the blacklist")
    errors: Errors = []
    reason_text = _text({"reason": reason}, "reason", errors, required=True, max_length=255)
    expiry: dt.datetime | None = None
    if preset == "custom":
        if not isinstance(until, dt.datetime):
            errors.append({"field": "until", "rule": "required", "message": "a custom blacklist needs until (a date and time)"})
        elif timezone.is_naive(until):
            errors.append({"field": "until", "rule": "timezone", "message": "until needs a time zone offset"})
        elif until <= now:
            errors.append({"field": "until", "rule": "future", "message": "until must be in the future"})
        else:
            expiry = until
    elif preset in BLACKLIST_PRESETS:
        if until is not None:
            errors.append({"field": "until", "rule": "only_with_custom", "message": "until is only for preset custom"})
        delta = BLACKLIST_PRESETS[preset]
        expiry = None if delta is None else now + delta
    else:
        errors.append({"field": "preset", "rule": "choice", "message": f"preset must be one of {[*BLACKLIST_PRESETS, 'custom']}"})
    _raise(errors)
    return expiry, reason_text


def do_blacklist_citizen(actor: User, citizen_id: int, preset: Any, reason: Any, *, until: Any = None,
                         now: dt.datetime | None = None) -> Citizen:
    """Blacklist for 5 min, 30 min, permanently (``blacklist_until`` empty) or until a
    chosen moment. The blacklist stops counting once ``blacklist_until`` passes."""
    when = _now(now)
    expiry, reason_text = check_blacklist(actor, preset, reason, until, when)
    with transaction.atomic():
        citizen = access.get_visible_citizen(actor, citizen_id, for_update=True)
        before = audit.snapshot(citizen, BLACKLIST_FIELDS)
        citizen.blacklisted, citizen.blacklist_until, citizen.blacklist_reason = True, expiry, reason_text
        citizen.save(update_fields=BLACKLIST_FIELDS)
        changes = audit.diff(before, audit.snapshot(citizen, BLACKLIST_FIELDS)) + [{"field": "preset", "old": None, "new": preset}]
        audit.record(actor, "citizen.blacklist", citizen, changes=changes, at=when)
    return citizen


def do_unblacklist_citizen(actor: User, citizen_id: int, *, now: dt.datetime | None = None) -> Citizen:
    when = _now(now)
    access.require_citizen_editor(actor, "keep the blacklist")
    with transaction.atomic():
        citizen = access.get_visible_citizen(actor, citizen_id, for_update=True)
        before = audit.snapshot(citizen, BLACKLIST_FIELDS)
        citizen.blacklisted, citizen.blacklist_until, citizen.blacklist_reason = False, None, ""
        citizen.save(update_fields=BLACKLIST_FIELDS)
        audit.record(actor, "citizen.unblacklist", citizen, changes=audit.diff(before, audit.snapshot(citizen, BLACKLIST_FIELDS)), at=when)
    return citizen


def _phone_q(phone: str) -> Q:
    """The phone as the main number or one of the other numbers (a JSON list: matched as
    the quoted string in its text form, which works on SQLite and PostgreSQL alike)."""
    return Q(phone=phone) | Q(other_phones_text__contains=f'"{phone}"')


def lookup_citizens_by_phone(actor: User, phone: str) -> list[Citizen]:
    """Screen pop / intake: every citizen with this number, main or other."""
    access.require_citizen_reader(actor)
    phone = normalise_phone(phone or "")
    if not PHONE_RE.match(phone):
        raise InvalidInput("phone", "phone_format", "phone must be 5-20 digits")
    qs = access.visible_citizens(actor).annotate(other_phones_text=Cast("other_phones", models.TextField()))
    return list(qs.filter(_phone_q(phone)).order_by("pk")[:50])


def lookup_citizens_view(actor: User, phone: str, now: dt.datetime) -> list[dict[str, Any]]:
    return [access.citizen_view(actor, c, now) for c in lookup_citizens_by_phone(actor, phone)]


def search_citizens(actor: User, *, q: str | None = None, phone: str | None = None, tag: str | None = None,
                    blacklisted: bool | None = None, now: dt.datetime, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    access.require_citizen_reader(actor)
    errors: Errors = []
    if page < 1:
        errors.append({"field": "page", "rule": "range", "message": "page starts at 1"})
    if not 1 <= page_size <= 200:
        errors.append({"field": "page_size", "rule": "range", "message": "page_size must be 1..200"})
    _raise(errors)
    qs = access.visible_citizens(actor).annotate(other_phones_text=Cast("other_phones", models.TextField()))
    if phone:
        qs = qs.filter(_phone_q(normalise_phone(phone)))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(address__icontains=q) | Q(phone__startswith=normalise_phone(q)))
    if tag:
        qs = qs.annotate(tags_text=Cast("tags", models.TextField())).filter(tags_text__contains=f'"{tag}"')
    if blacklisted is True:
        qs = qs.filter(Q(blacklisted=True) & (Q(blacklist_until__isnull=True) | Q(blacklist_until__gt=now)))
    elif blacklisted is False:
        qs = qs.exclude(Q(blacklisted=True) & (Q(blacklist_until__isnull=True) | Q(blacklist_until__gt=now)))
    count = qs.count()
    items = list(qs.order_by("-pk")[(page - 1) * page_size: page * page_size])
    return {"count": count, "page": page, "page_size": page_size, "items": [access.citizen_view(actor, c, now) for c in items]}


def citizen_view(actor: User, citizen: Citizen, now: dt.datetime) -> dict[str, Any]:
    return access.citizen_view(actor, citizen, now)


def get_citizen(actor: User, citizen_id: int, now: dt.datetime) -> dict[str, Any]:
    return access.citizen_view(actor, access.get_visible_citizen(actor, citizen_id), now)
