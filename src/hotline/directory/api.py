"""Data dictionary endpoints, mounted at /api/directory (docs/directory.md).

Thin: parse, one call into ``directory.actions``, serialise. Who may do what is
decided in ``directory.access`` (through the actions): every active user reads the
dictionary, administrators change it, intake roles keep citizens' records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from hotline.directory import actions
from hotline.lib import clock

router = Router(tags=["directory"])


# --- schemas -------------------------------------------------------------------------------


class RemoveOut(Schema):
    deleted: bool = Field(description="true: removed; false: still referenced, so deactivated instead")
    deactivated: list[int] = Field(description="ids deactivated (the entry and, for trees, its subtree)")
    referenced_by: list[str] = Field(description="tables that refer to the entry")


class RecomputeOut(Schema):
    mode: str = Field(description="inline: done in this request; queued: the worker does it; none: nothing changed")
    changed: int | None = Field(description="open tickets whose deadline moved (null while queued)")


class DepartmentOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    parent_id: int | None
    path: str
    depth: int
    duty: str
    phone: str
    can_handle: bool
    active: bool
    sort: int


class DepartmentNode(DepartmentOut):
    children: list[DepartmentNode]


class DepartmentIn(Schema):
    code: str = Field(..., description="stable code (letters, digits, . _ -)")
    name: str
    kind: str = Field(..., description="city / district / street / community / bureau / enterprise / center")
    parent: int | str | None = Field(None, description="parent id or code; empty for a root")
    duty: str = Field("", description="职责")
    phone: str = Field("", description="联系电话")
    can_handle: bool = True
    active: bool = True
    sort: int = 0


class DepartmentPatch(Schema):
    code: str | None = None
    name: str | None = None
    kind: str | None = None
    parent: int | str | None = Field(None, description="a new parent moves the department with its subtree")
    duty: str | None = None
    phone: str | None = None
    can_handle: bool | None = None
    active: bool | None = None
    sort: int | None = None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    active: bool
    sort: int


class CategoryNode(CategoryOut):
    children: list[CategoryOut]


class CategoryIn(Schema):
    code: str
    name: str
    parent: int | str | None = Field(None, description="a top-level category (two levels only); empty for a top-level one")
    active: bool = True
    sort: int = 0


class CategoryPatch(Schema):
    code: str | None = None
    name: str | None = None
    parent: int | str | None = None
    active: bool | None = None
    sort: int | None = None


class EntryOut(Schema):
    id: int
    code: str
    name: str
    active: bool
    sort: int
    department_id: int | None = Field(None, description="districts only: the district's government department")

    @staticmethod
    def resolve_department_id(obj: Any) -> int | None:
        return getattr(obj, "department_id", None)


class EntryIn(Schema):
    code: str
    name: str
    active: bool = True
    sort: int = 0
    department: int | str | None = Field(None, description="districts only")


class EntryPatch(Schema):
    code: str | None = None
    name: str | None = None
    active: bool | None = None
    sort: int | None = None
    department: int | str | None = None


class RefOut(Schema):
    id: int
    code: str
    name: str


class RuleOut(Schema):
    id: int
    service_type: RefOut | None = Field(description="null: any service type")
    category: RefOut | None = Field(description="null: any category")
    handle_days: int = Field(description="办理时限 in working days")
    sign_days: int = Field(description="签收时限 in working days")


class RuleChangeOut(RuleOut):
    recompute: RecomputeOut


class RuleIn(Schema):
    service_type: int | str | None = Field(None, description="id or code; empty for any")
    category: int | str | None = Field(None, description="id or code; empty for any")
    handle_days: int = Field(..., description="positive working days")
    sign_days: int | None = Field(None, description="positive working days (default: fallback_sign_days)")


class RulePatch(Schema):
    service_type: int | str | None = None
    category: int | str | None = None
    handle_days: int | None = None
    sign_days: int | None = None


class HolidayOut(Schema):
    date: dt.date
    is_workday: bool
    name: str
    weekday: int = Field(description="1 = Monday … 7 = Sunday")


class HolidayChangeOut(HolidayOut):
    recompute: RecomputeOut


class HolidayIn(Schema):
    is_workday: bool | str = Field(..., description="true/班: a working day (调休); false/休: a day off")
    name: str = Field("", description="e.g. 春节, 国庆节调休")


class HolidayImportIn(Schema):
    text: str | None = Field(None, description="lines `date,is_workday,name`; date may be a range `2027-02-05~2027-02-13`")
    days: list[dict[str, Any]] | None = Field(None, description="or a list of {date, is_workday, name}")
    year: int | None = Field(None, description="every date must be in this year (and replace applies to it)")
    replace: bool = Field(False, description="remove the year's overrides that the import does not mention")


class HolidayImportOut(Schema):
    years: list[int]
    created: int
    updated: int
    unchanged: int
    deleted: int
    recompute: RecomputeOut


class CoverageOut(Schema):
    year: int
    covered: bool
    source: str = Field(description="what covers the year: overrides and/or the chinesecalendar package")
    overrides: int
    package: bool
    warning: str | None


class ParameterOut(Schema):
    key: str
    value: Any
    default: Any
    is_default: bool
    type: str
    rule: str
    updated_at: dt.datetime | None


class ParameterChangeOut(ParameterOut):
    recompute: RecomputeOut | None = Field(description="set when the parameter moves open deadlines")


class ParameterIn(Schema):
    value: Any


class CitizenOut(Schema):
    id: int
    name: str
    phone: str
    other_phones: list[str]
    id_number: str
    address: str
    tags: list[str]
    blacklisted: bool = Field(description="blacklisted now (an expired blacklist counts as not)")
    blacklist_until: dt.datetime | None = Field(description="null while blacklisted: permanent")
    blacklist_reason: str
    created_at: dt.datetime
    phone_masked: bool
    id_number_masked: bool


class CitizenPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[CitizenOut]


class CitizenIn(Schema):
    phone: str
    name: str = ""
    other_phones: list[str] = []
    id_number: str = ""
    address: str = ""
    tags: list[str] = Field([], description="e.g. VIP, 老年人, 重复来电")


class CitizenPatch(Schema):
    phone: str | None = None
    name: str | None = None
    other_phones: list[str] | None = None
    id_number: str | None = None
    address: str | None = None
    tags: list[str] | None = None


class BlacklistIn(Schema):
    preset: str = Field(..., description="5min / 30min / permanent / custom")
    reason: str = Field(..., description="why (required)")
    until: dt.datetime | None = Field(None, description="custom only: when it ends")


def _user(request: HttpRequest) -> Any:
    return request.user


# --- departments -----------------------------------------------------------------------------


@router.get("/departments/tree", response=list[DepartmentNode], summary="部门树 / the department tree, nested")
def department_tree(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    return actions.department_tree(_user(request), include_inactive=include_inactive)


@router.get("/departments", response=list[DepartmentOut], summary="部门列表 / departments (flat, filtered)")
def list_departments(request: HttpRequest, q: str | None = None, kind: str | None = None, under: int | None = None,
                     include_inactive: bool = False) -> list[dict[str, Any]]:
    return [actions.department_out(d) for d in actions.list_departments(_user(request), q=q, kind=kind, under=under, include_inactive=include_inactive)]


@router.get("/departments/{dept_id}", response=DepartmentOut, summary="部门详情 / one department")
def get_department(request: HttpRequest, dept_id: int) -> dict[str, Any]:
    return actions.department_out(actions.get_department(_user(request), dept_id))


@router.post("/departments", response={201: DepartmentOut}, summary="新增部门 / create a department (administrators)")
def create_department(request: HttpRequest, payload: DepartmentIn) -> Status[dict[str, Any]]:
    return Status(201, actions.department_out(actions.do_create_department(_user(request), payload.dict(), now=clock.now())))


@router.patch("/departments/{dept_id}", response=DepartmentOut, summary="修改或移动部门 / change or move a department with its subtree (administrators)")
def update_department(request: HttpRequest, dept_id: int, payload: DepartmentPatch) -> dict[str, Any]:
    return actions.department_out(actions.do_update_department(_user(request), dept_id, payload.dict(exclude_unset=True), now=clock.now()))


@router.delete("/departments/{dept_id}", response=RemoveOut, summary="删除或停用部门 / delete, or deactivate when referenced (administrators)")
def remove_department(request: HttpRequest, dept_id: int) -> dict[str, Any]:
    return actions.do_remove_department(_user(request), dept_id, now=clock.now())


# --- categories ---------------------------------------------------------------------------------


@router.get("/categories/tree", response=list[CategoryNode], summary="诉求分类树 / the two-level category tree")
def category_tree(request: HttpRequest, include_inactive: bool = False) -> list[dict[str, Any]]:
    return actions.category_tree(_user(request), include_inactive=include_inactive)


@router.post("/categories", response={201: CategoryOut}, summary="新增分类 / create a category (administrators)")
def create_category(request: HttpRequest, payload: CategoryIn) -> Status[dict[str, Any]]:
    return Status(201, actions.category_out(actions.do_create_category(_user(request), payload.dict(), now=clock.now())))


@router.patch("/categories/{category_id}", response=CategoryOut, summary="修改分类 / change a category (administrators)")
def update_category(request: HttpRequest, category_id: int, payload: CategoryPatch) -> dict[str, Any]:
    return actions.category_out(actions.do_update_category(_user(request), category_id, payload.dict(exclude_unset=True), now=clock.now()))


@router.delete("/categories/{category_id}", response=RemoveOut, summary="删除或停用分类 / delete, or deactivate when referenced (administrators)")
def remove_category(request: HttpRequest, category_id: int) -> dict[str, Any]:
    return actions.do_remove_category(_user(request), category_id, now=clock.now())


# --- flat entries: service types, sources, districts ------------------------------------------


def _entry_endpoints(path: str, kind: str, zh: str, en: str) -> None:
    def list_entries(request: HttpRequest, include_inactive: bool = False) -> list[Any]:
        return actions.list_entries(_user(request), kind, include_inactive=include_inactive)

    def create_entry(request: HttpRequest, payload: EntryIn) -> Status[Any]:
        return Status(201, actions.do_create_entry(_user(request), kind, payload.dict(exclude_unset=True), now=clock.now()))

    def update_entry(request: HttpRequest, entry_id: int, payload: EntryPatch) -> Any:
        return actions.do_update_entry(_user(request), kind, entry_id, payload.dict(exclude_unset=True), now=clock.now())

    def remove_entry(request: HttpRequest, entry_id: int) -> dict[str, Any]:
        return actions.do_remove_entry(_user(request), kind, entry_id, now=clock.now())

    router.get(f"/{path}", response=list[EntryOut], summary=f"{zh} / {en}", operation_id=f"list_{kind}")(list_entries)
    router.post(f"/{path}", response={201: EntryOut}, summary=f"新增{zh} / create a {en[:-1]} (administrators)",
                operation_id=f"create_{kind}")(create_entry)
    router.patch(f"/{path}/{{entry_id}}", response=EntryOut, summary=f"修改{zh} / change a {en[:-1]} (administrators)",
                 operation_id=f"update_{kind}")(update_entry)
    router.delete(f"/{path}/{{entry_id}}", response=RemoveOut, summary=f"删除或停用{zh} / delete, or deactivate when referenced",
                  operation_id=f"remove_{kind}")(remove_entry)


_entry_endpoints("service-types", "service_type", "诉求类型", "service types")
_entry_endpoints("sources", "source", "受理渠道", "sources")
_entry_endpoints("districts", "district", "行政区划", "districts")


# --- deadline rules ---------------------------------------------------------------------------


@router.get("/deadline-rules", response=list[RuleOut], summary="办理时限规则 / deadline rules (service type × category)")
def list_deadline_rules(request: HttpRequest) -> list[dict[str, Any]]:
    return [actions.rule_out(r) for r in actions.list_deadline_rules(_user(request))]


@router.post("/deadline-rules", response={201: RuleChangeOut}, summary="新增时限规则 / create a rule; open deadlines are recomputed (administrators)")
def create_deadline_rule(request: HttpRequest, payload: RuleIn) -> Status[dict[str, Any]]:
    rule, result = actions.do_create_deadline_rule(_user(request), payload.dict(exclude_unset=True), now=clock.now())
    return Status(201, actions.rule_out(rule) | {"recompute": result})


@router.patch("/deadline-rules/{rule_id}", response=RuleChangeOut, summary="修改时限规则 / change a rule; open deadlines are recomputed (administrators)")
def update_deadline_rule(request: HttpRequest, rule_id: int, payload: RulePatch) -> dict[str, Any]:
    rule, result = actions.do_update_deadline_rule(_user(request), rule_id, payload.dict(exclude_unset=True), now=clock.now())
    return actions.rule_out(rule) | {"recompute": result}


@router.delete("/deadline-rules/{rule_id}", response=RecomputeOut, summary="删除时限规则 / delete a rule; open deadlines are recomputed (administrators)")
def delete_deadline_rule(request: HttpRequest, rule_id: int) -> dict[str, Any]:
    return actions.do_delete_deadline_rule(_user(request), rule_id, now=clock.now())


# --- holidays ----------------------------------------------------------------------------------


@router.get("/holidays/coverage", response=list[CoverageOut], summary="节假日覆盖情况 / which years the calendar covers, with warnings")
def holiday_coverage(request: HttpRequest, years: str | None = None) -> list[dict[str, Any]]:
    """``years``: comma-separated (default: this year and next)."""
    return actions.calendar_coverage(_user(request), years, clock.now())


@router.post("/holidays/import", response=HolidayImportOut, summary="导入节假日安排 / import a year's schedule, all or nothing (administrators)")
def import_holidays(request: HttpRequest, payload: HolidayImportIn) -> dict[str, Any]:
    return actions.do_import_holidays(_user(request), text=payload.text, days=payload.days, year=payload.year,
                                      replace=payload.replace, now=clock.now())


@router.get("/holidays", response=list[HolidayOut], summary="节假日调整 / holiday overrides")
def list_holidays(request: HttpRequest, year: int | None = None) -> list[dict[str, Any]]:
    return [actions.holiday_out(o) for o in actions.list_holidays(_user(request), year)]


@router.put("/holidays/{day}", response=HolidayChangeOut, summary="设置某日 / set one day as working day or day off (administrators)")
def set_holiday(request: HttpRequest, day: dt.date, payload: HolidayIn) -> dict[str, Any]:
    row, result = actions.do_set_holiday(_user(request), day, payload.dict(exclude_unset=True), now=clock.now())
    return actions.holiday_out(row) | {"recompute": result}


@router.delete("/holidays/{day}", response=RecomputeOut, summary="删除某日调整 / remove one override (administrators)")
def delete_holiday(request: HttpRequest, day: dt.date) -> dict[str, Any]:
    return actions.do_delete_holiday(_user(request), day, now=clock.now())


# --- parameters ----------------------------------------------------------------------------------


@router.get("/parameters", response=list[ParameterOut], summary="系统参数 / system parameters with defaults and rules")
def list_parameters(request: HttpRequest) -> list[dict[str, Any]]:
    return actions.list_parameters(_user(request))


@router.put("/parameters/{key}", response=ParameterChangeOut, summary="设置参数 / set a parameter, applied without restart (administrators)")
def set_parameter(request: HttpRequest, key: str, payload: ParameterIn) -> dict[str, Any]:
    return actions.do_set_parameter(_user(request), key, payload.value, now=clock.now())


@router.delete("/parameters/{key}", response=ParameterChangeOut, summary="恢复默认 / reset a parameter to its default (administrators)")
def reset_parameter(request: HttpRequest, key: str) -> dict[str, Any]:
    return actions.do_reset_parameter(_user(request), key, now=clock.now())


# --- citizens --------------------------------------------------------------------------------------


@router.get("/citizens", response=CitizenPage, summary="市民查询 / search citizens (intake roles; masked for others)")
def search_citizens(request: HttpRequest, q: str | None = None, phone: str | None = None, tag: str | None = None,
                    blacklisted: bool | None = None, page: int = 1, page_size: int = 20) -> dict[str, Any]:
    return actions.search_citizens(_user(request), q=q, phone=phone, tag=tag, blacklisted=blacklisted, now=clock.now(),
                                   page=page, page_size=page_size)


@router.get("/citizens/lookup", response=list[CitizenOut], summary="按电话查找 / look up by any phone number (main or other)")
def lookup_citizens(request: HttpRequest, phone: str) -> list[dict[str, Any]]:
    return actions.lookup_citizens_view(_user(request), phone, clock.now())


@router.get("/citizens/{citizen_id}", response=CitizenOut, summary="市民详情 / one citizen")
def get_citizen(request: HttpRequest, citizen_id: int) -> dict[str, Any]:
    return actions.get_citizen(_user(request), citizen_id, clock.now())


@router.post("/citizens", response={201: CitizenOut}, summary="新增市民 / create a citizen's record (intake roles)")
def create_citizen(request: HttpRequest, payload: CitizenIn) -> Status[dict[str, Any]]:
    now = clock.now()
    return Status(201, actions.citizen_view(_user(request), actions.do_create_citizen(_user(request), payload.dict(), now=now), now))


@router.patch("/citizens/{citizen_id}", response=CitizenOut, summary="修改市民信息或标签 / change a citizen's record or tags (intake roles)")
def update_citizen(request: HttpRequest, citizen_id: int, payload: CitizenPatch) -> dict[str, Any]:
    now = clock.now()
    citizen = actions.do_update_citizen(_user(request), citizen_id, payload.dict(exclude_unset=True), now=now)
    return actions.citizen_view(_user(request), citizen, now)


@router.post("/citizens/{citizen_id}/blacklist", response=CitizenOut, summary="加入黑名单 / blacklist: 5min, 30min, permanent or custom (intake roles)")
def blacklist_citizen(request: HttpRequest, citizen_id: int, payload: BlacklistIn) -> dict[str, Any]:
    now = clock.now()
    citizen = actions.do_blacklist_citizen(_user(request), citizen_id, payload.preset, payload.reason, until=payload.until, now=now)
    return actions.citizen_view(_user(request), citizen, now)


@router.post("/citizens/{citizen_id}/unblacklist", response=CitizenOut, summary="移出黑名单 / remove from the blacklist (intake roles)")
def unblacklist_citizen(request: HttpRequest, citizen_id: int) -> dict[str, Any]:
    now = clock.now()
    return actions.citizen_view(_user(request), actions.do_unblacklist_citizen(_user(request), citizen_id, now=now), now)
