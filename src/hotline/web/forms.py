"""Forms of the pages. They render fields (labels, ids, what the user typed) and turn
text into the values the actions take; the rules themselves are checked once, by the
actions, whose errors land next to the fields (``web.errors``)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from hotline.cases import cache
from hotline.cases.models import Satisfaction, Status, Urgency
from hotline.directory.models import Category, Department, District, ServiceType, Source


class FastSelect(forms.Select):
    """A <select> rendered in Python. Django renders every <option> through a template
    (about 0.3 ms each): the desk's pickers (categories, 60 departments twice) took
    most of the page's time. Same HTML, attributes and option groups."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        final = self.build_attrs(self.attrs, attrs)
        if self.allow_multiple_selected:
            final["multiple"] = True
        selected = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}
        out = [format_html("<select name=\"{}\"{}>", name, flatatt(final))]

        def option(v: Any, label: Any) -> str:
            v = "" if v is None else str(v)
            return format_html("<option value=\"{}\"{}>{}</option>", v, mark_safe(" selected") if v in selected else "", label)

        for v, label in self.choices:
            if isinstance(label, (list, tuple)):
                out.append(format_html("<optgroup label=\"{}\">", v))
                out.extend(option(sv, sl) for sv, sl in label)
                out.append("</optgroup>")
            else:
                out.append(option(v, label))
        out.append("</select>")
        return mark_safe("".join(out))


class FastSelectMultiple(FastSelect, forms.SelectMultiple):
    allow_multiple_selected = True


def _cached(key: str, load: Any) -> list[Any]:
    """A choice list built from the data dictionary, kept per process in
    ``cases.cache`` (emptied when the dictionary changes; read from the database inside
    a transaction). A copy, so a caller may extend it."""
    return list(cache.cached(cache.DICTIONARY, f"web.choices:{key}", load))


def _entries(model: Any, blank: str | None = None) -> list[tuple[str, str]]:
    def load() -> list[tuple[str, str]]:
        return [(code, name) for code, name in model.objects.filter(active=True).order_by("sort", "code").values_list("code", "name")]

    return ([("", blank)] if blank is not None else []) + _cached(model._meta.label_lower, load)


def category_choices(blank: str = "—") -> list[Any]:
    """Two levels as option groups: the parent selectable, then its children."""

    def load() -> list[Any]:
        cats = list(Category.objects.filter(active=True).order_by("sort", "code").values_list("pk", "parent_id", "code", "name"))
        children: dict[int, list[tuple[str, str]]] = {}
        for _pk, parent_id, code, name in cats:
            if parent_id:
                children.setdefault(parent_id, []).append((code, name))
        out: list[Any] = []
        for pk, parent_id, code, name in cats:
            if not parent_id:
                out.append((name, [(code, f"{name}(全部)")] + [(c, f"{name} / {n}") for c, n in children.get(pk, [])]))
        return out

    return [("", blank)] + _cached("category", load)


def department_choices(blank: str | None = "—", handling_only: bool = True) -> list[tuple[str, str]]:
    def load() -> list[tuple[str, str]]:
        qs = Department.objects.filter(active=True)
        if handling_only:
            qs = qs.filter(can_handle=True)
        return [(str(pk), ("\u3000" * depth) + name) for pk, depth, name in qs.order_by("path").values_list("pk", "depth", "name")]

    return ([("", blank)] if blank is not None else []) + _cached(f"department:{int(handling_only)}", load)


def _text(label: Any, *, required: bool = False, max_length: int | None = None, area: int = 0, **attrs: Any) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": area, **attrs}) if area else forms.TextInput(attrs=attrs)
    field = forms.CharField(label=label, required=False, max_length=None, widget=widget, strip=False)
    if required:
        field.widget.attrs["aria-required"] = "true"
        field.show_required = True  # type: ignore[attr-defined]
    return field


class DeskForm(forms.Form):
    """受理登记: what a call-taker types while on the phone."""

    contact_phone = _text(_("联系电话"), required=True, autocomplete="off", inputmode="tel", autofocus=True)
    citizen_name = _text(_("来电人"))
    confidential = forms.BooleanField(label=_("要求保密"), required=False)
    source = forms.ChoiceField(label=_("受理渠道"), required=False, widget=FastSelect)
    service_type = forms.ChoiceField(label=_("诉求类型"), required=False, widget=FastSelect)
    category = forms.ChoiceField(label=_("诉求分类"), required=False, widget=FastSelect)
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=Urgency.choices, widget=FastSelect)
    district = forms.ChoiceField(label=_("所属区域"), required=False, widget=FastSelect)
    address = _text(_("地址"))
    summary = _text(_("诉求摘要"), required=True)
    content = _text(_("诉求内容"), required=True, area=5)
    result = _text(_("答复内容(直接办结)"), area=3)
    lead_department = forms.ChoiceField(label=_("主办单位"), required=False, widget=FastSelect)
    assisting_departments = forms.MultipleChoiceField(label=_("协办单位"), required=False, widget=FastSelectMultiple(attrs={"size": 4}))
    comment = _text(_("派单意见"))
    #: "call:<call id>" of the call being answered; set by the telephony screen-pop
    #: (``telephony/_screenpop.html``) into this hidden input, empty when typed by hand.
    recording_ref = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)
    #: the knowledge article whose standard answer was adopted ("采用答复", web/static/web/assist.js);
    #: recorded as that article's usage by the saved ticket.
    assist_article = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = _entries(Source)
        self.fields["service_type"].choices = _entries(ServiceType, "—")
        self.fields["category"].choices = category_choices()
        self.fields["district"].choices = _entries(District, "—")
        self.fields["lead_department"].choices = department_choices()
        self.fields["assisting_departments"].choices = department_choices(None)
        if not self.is_bound:
            self.initial.setdefault("source", "phone")

    def ticket_data(self) -> dict[str, Any]:
        """The input of ``do_create_ticket`` (raw text: the action validates)."""
        d = self.data
        keys = ["contact_phone", "citizen_name", "source", "service_type", "category", "urgency", "district", "address", "summary", "content",
                "recording_ref"]
        out: dict[str, Any] = {k: (d.get(k) or "").strip() for k in keys}
        out["confidential"] = bool(d.get("confidential"))
        for k in ("category", "district"):
            if not out[k]:
                out[k] = None
        return out


def _codes(choices: Any) -> set[str]:
    """Every value of a (possibly grouped) choice list."""
    out: set[str] = set()
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            out.update(str(v) for v, _l in label)
        else:
            out.add(str(value))
    return out


class TicketEditForm(forms.Form):
    """修改工单: the registered fields, for the roles and states of the ``update``
    transition (``lifecycle.allowed_actions``). The phone is offered only to those who
    see it in full, the ID number only to those who see ID numbers (``cases.access``)."""

    citizen_name = _text(_("来电人"))
    contact_phone = _text(_("联系电话"), required=True, autocomplete="off", inputmode="tel")
    id_number = _text(_("身份证号"), autocomplete="off")
    confidential = forms.BooleanField(label=_("要求保密"), required=False)
    source = forms.ChoiceField(label=_("受理渠道"), required=False, widget=FastSelect)
    service_type = forms.ChoiceField(label=_("诉求类型"), required=False, widget=FastSelect)
    category = forms.ChoiceField(label=_("诉求分类"), required=False, widget=FastSelect)
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=Urgency.choices, widget=FastSelect)
    district = forms.ChoiceField(label=_("所属区域"), required=False, widget=FastSelect)
    address = _text(_("地址"))
    longitude = _text(_("经度"), inputmode="decimal")
    latitude = _text(_("纬度"), inputmode="decimal")
    summary = _text(_("诉求摘要"), required=True)
    content = _text(_("诉求内容"), required=True, area=5)
    leader_instruction = _text(_("领导批示"), area=2)

    TEXT = ("citizen_name", "contact_phone", "id_number", "address", "summary", "content", "leader_instruction")
    REFS = ("source", "service_type", "category", "district")

    def __init__(self, data: Any = None, *, ticket: Any, phone: bool, id_number: bool) -> None:
        self.ticket = ticket
        super().__init__(data, initial=None if data is not None else self.current(ticket), auto_id="edit_%s")
        for name in [n for n, keep in (("contact_phone", phone), ("id_number", id_number)) if not keep]:
            del self.fields[name]
        self.fields["source"].choices = _entries(Source)
        self.fields["service_type"].choices = _entries(ServiceType, "—")
        self.fields["category"].choices = category_choices()
        self.fields["district"].choices = _entries(District, "—")
        for name in self.REFS:  # an entry deactivated since registration stays selectable as it is
            obj = getattr(ticket, name, None)
            if obj is not None and obj.code not in _codes(self.fields[name].choices):
                self.fields[name].choices = list(self.fields[name].choices) + [(obj.code, obj.name)]

    @classmethod
    def current(cls, ticket: Any) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(ticket, name) or "" for name in cls.TEXT if name != "id_number"}
        out["id_number"] = (ticket.citizen.id_number if ticket.citizen_id and ticket.citizen else "") or ""
        out["confidential"] = ticket.confidential
        out["urgency"] = ticket.urgency
        for name in cls.REFS:
            obj = getattr(ticket, name, None)
            out[name] = obj.code if obj is not None else ""
        for name in ("longitude", "latitude"):
            value = getattr(ticket, name)
            out[name] = "" if value is None else format(value.normalize(), "f")
        return out

    def changes(self) -> dict[str, Any]:
        """The input of ``do_update_ticket``: only the fields the user changed (raw text:
        the action validates), so the timeline names what was edited."""
        d, before = self.data, self.current(self.ticket)
        out: dict[str, Any] = {}
        for name in self.fields:
            if name == "confidential":
                value: Any = bool(d.get(name))
                if value != before[name]:
                    out[name] = value
                continue
            text = str(d.get(name) or "").strip()
            if text == str(before[name]).strip():
                continue
            if name == "id_number" and not text:
                continue  # the action cannot clear a citizen's ID number: leaving it blank keeps it
            out[name] = None if name in ("category", "district") and not text else text
        return out


# RFC 3261 §25.1: callid = word [ "@" word ]; a word is alphanumerics and -.!%*_+`'~()<>:\"/[]?{}
_CALLID_WORD = r"""[A-Za-z0-9\-.!%*_+`'~()<>:\\"/\[\]?{}]+"""
RECORDING_REF_RE = re.compile(rf"call:{_CALLID_WORD}(?:@{_CALLID_WORD})?")


def recording_ref_errors(value: str) -> list[dict[str, str]]:
    """The desk's own rule for the hidden call reference (max 255, ``call:<id>`` or
    empty), in the ``InvalidInput`` error format."""
    if not value:
        return []
    if len(value) > 255:
        return [{"field": "recording_ref", "rule": "max_length", "message": "recording_ref must be at most 255 characters"}]
    if not RECORDING_REF_RE.fullmatch(value):
        return [{"field": "recording_ref", "rule": "recording_ref_format", "message": "recording_ref must look like call:<call id>"}]
    return []


#: action name → the form fields it takes (besides the ticket): name, kind, label.
ACTION_FIELDS: dict[str, list[tuple[str, str, Any]]] = {
    "register": [],
    "resolve_on_spot": [("result", "area", _("答复内容"))],
    "dispatch": [("lead_department", "department", _("主办单位")), ("assisting_departments", "departments", _("协办单位")), ("comment", "text", _("派单意见"))],
    "sign_for": [("comment", "text", _("签收意见"))],
    "assign": [("handler", "handler", _("承办人")), ("comment", "text", _("说明"))],
    "request_return": [("comment", "area", _("退回理由"))],
    "accept_return": [("comment", "text", _("意见"))],
    "refuse_return": [("comment", "area", _("不同意理由"))],
    "reply": [("result", "area", _("办理结果")), ("file", "file", _("附件"))],
    "approve_reply": [("comment", "text", _("审核意见"))],
    "send_back": [("comment", "area", _("退回重办理由"))],
    "callback": [("satisfaction", "satisfaction", _("满意度")), ("comment", "area", _("回访记录"))],
    "close": [("comment", "text", _("办结说明"))],
    "reopen": [("comment", "area", _("重办理由"))],
    "merge": [("original", "text", _("原工单编号")), ("comment", "text", _("说明"))],
    "void": [("comment", "area", _("作废理由"))],
    "not_accept": [("comment", "area", _("不予受理理由"))],
    "urge": [("comment", "text", _("催办意见"))],
    "supervise": [("comment", "area", _("督办意见"))],
    "answer_supervision": [("comment", "area", _("督办反馈"))],
    "close_supervision": [("comment", "text", _("说明"))],
    "request_extension": [("new_date", "date", _("申请延期至")), ("comment", "area", _("延期理由"))],
    "approve_extension": [("comment", "text", _("审批意见"))],
    "refuse_extension": [("comment", "area", _("不同意理由"))],
    "assist_opinion": [("comment", "area", _("协办意见"))],
    "attach": [("file", "file", _("附件"))],
}
#: Actions the ticket page does not offer as a form (edited elsewhere, or not a page action).
NOT_ON_TICKET_PAGE = {"update", "import_closed"}
SATISFACTION_CHOICES = Satisfaction.choices
STATUS_CHOICES = Status.choices
