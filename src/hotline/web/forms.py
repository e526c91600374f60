"""Forms of the pages. They render fields (labels, ids, what the user typed) and turn
text into the values the actions take; the rules themselves are checked once, by the
actions, whose errors land next to the fields (``web.errors``)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hotline.cases.models import Satisfaction, Status, Urgency
from hotline.directory.models import Category, Department, District, ServiceType, Source


def _entries(model: Any, blank: str | None = None) -> list[tuple[str, str]]:
    rows = [(e.code, e.name) for e in model.objects.filter(active=True).order_by("sort", "code")]
    return ([("", blank)] if blank is not None else []) + rows


def category_choices(blank: str = "—") -> list[Any]:
    """Two levels as option groups: the parent selectable, then its children."""
    cats = list(Category.objects.filter(active=True).order_by("sort", "code"))
    children: dict[int, list[Category]] = {}
    for c in cats:
        if c.parent_id:
            children.setdefault(c.parent_id, []).append(c)
    out: list[Any] = [("", blank)]
    for parent in (c for c in cats if not c.parent_id):
        out.append((parent.name, [(parent.code, f"{parent.name}(全部)")] + [(c.code, f"{parent.name} / {c.name}") for c in children.get(parent.pk, [])]))
    return out


def department_choices(blank: str | None = "—", handling_only: bool = True) -> list[tuple[str, str]]:
    qs = Department.objects.filter(active=True)
    if handling_only:
        qs = qs.filter(can_handle=True)
    rows = [(str(d.pk), ("\u3000" * d.depth) + d.name) for d in qs.order_by("path")]
    return ([("", blank)] if blank is not None else []) + rows


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
    source = forms.ChoiceField(label=_("受理渠道"), required=False)
    service_type = forms.ChoiceField(label=_("诉求类型"), required=False)
    category = forms.ChoiceField(label=_("诉求分类"), required=False)
    urgency = forms.ChoiceField(label=_("紧急程度"), required=False, choices=Urgency.choices)
    district = forms.ChoiceField(label=_("所属区域"), required=False)
    address = _text(_("地址"))
    summary = _text(_("诉求摘要"), required=True)
    content = _text(_("诉求内容"), required=True, area=5)
    result = _text(_("答复内容(直接办结)"), area=3)
    lead_department = forms.ChoiceField(label=_("主办单位"), required=False)
    assisting_departments = forms.MultipleChoiceField(label=_("协办单位"), required=False, widget=forms.SelectMultiple(attrs={"size": 4}))
    comment = _text(_("派单意见"))
    #: "call:<call id>" of the call being answered; set by the telephony screen-pop
    #: (``telephony/_screenpop.html``) into this hidden input, empty when typed by hand.
    recording_ref = forms.CharField(required=False, widget=forms.HiddenInput, strip=False)

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


RECORDING_REF_RE = re.compile(r"call:[A-Za-z0-9._@-]+")


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
