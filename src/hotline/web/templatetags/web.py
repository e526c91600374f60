from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get(mapping: Any, key: str) -> Any:
    """``{{ errors|get:"summary" }}``: a dict or QueryDict entry, or nothing."""
    if not mapping:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def getlist(mapping: Any, key: str) -> list[Any]:
    if hasattr(mapping, "getlist"):
        return mapping.getlist(key)
    value = mapping.get(key) if mapping else None
    return value if isinstance(value, list) else ([value] if value else [])


@register.filter
def strs(values: Any) -> list[str]:
    return [str(v) for v in values or []]


@register.simple_tag
def fieldid(prefix: str, name: str) -> str:
    return f"{prefix}-{name}"


@register.simple_tag(takes_context=True)
def nav_items(context: Any) -> list[tuple[str, str, str]]:
    from hotline.web.views import nav_for

    request = context.get("request")
    user = getattr(request, "user", None)
    return nav_for(user) if user is not None and user.is_authenticated else []


@register.simple_tag
def select(name: str, choices: Any, value: Any, element_id: str, multiple: bool = False) -> str:
    """``{% select "lead_department" departments posted_value "dispatch-lead_department" %}``:
    a <select> rendered in Python (``forms.FastSelect``), not option by option in the template."""
    from hotline.web.forms import FastSelect, FastSelectMultiple

    widget = FastSelectMultiple(choices=choices) if multiple else FastSelect(choices=choices)
    return widget.render(name, value, {"id": element_id})
