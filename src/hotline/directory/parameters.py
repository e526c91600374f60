"""System parameters: defaults here, overrides in the ``Parameter`` table.

Administrators change them through ``directory.actions.do_set_parameter``; the
new value is read by the next request or job (no restart).
"""

from __future__ import annotations

from typing import Any

from hotline.directory.models import Parameter

DEFAULTS: dict[str, Any] = {
    # A ticket turns yellow when no more than this share of its period is left.
    "warn_share": 0.2,
    # Working days a department gets after a reopen (重办).
    "reopen_days": 5,
    # Handling days when no deadline rule matches at all (a rule (*, *) is seeded).
    "fallback_handle_days": 15,
    "fallback_sign_days": 1,
    # Hour:minute of the last working day at which a deadline falls.
    "deadline_time": "23:59",
    # Whether the periodic job urges automatically at yellow / red / sign-for overdue.
    "auto_urge": True,
    # Window (days) in which a repeated appeal counts as a duplicate (判重).
    "duplicate_window_days": 30,
    # Open tickets up to which a calendar/rule change recomputes deadlines in the same
    # request (and transaction); above it the worker's recompute_deadlines task does it.
    "recompute_inline_max": 500,
}

#: Parameters whose change moves open deadlines (directory.actions recomputes them).
DEADLINE_KEYS = frozenset({"warn_share", "deadline_time", "fallback_handle_days"})

#: Validators: key -> (type, check, rule text)
RULES: dict[str, tuple[type, Any, str]] = {
    "warn_share": (float, lambda v: 0 < v < 1, "must be between 0 and 1"),
    "reopen_days": (int, lambda v: 1 <= v <= 365, "must be 1..365 working days"),
    "fallback_handle_days": (int, lambda v: 1 <= v <= 365, "must be 1..365 working days"),
    "fallback_sign_days": (int, lambda v: 1 <= v <= 30, "must be 1..30 working days"),
    "deadline_time": (str, lambda v: _valid_hhmm(v), "must be HH:MM"),
    "auto_urge": (bool, lambda v: True, "must be true or false"),
    "duplicate_window_days": (int, lambda v: 1 <= v <= 3650, "must be 1..3650 days"),
    "recompute_inline_max": (int, lambda v: 0 <= v <= 1_000_000, "must be 0..1000000 tickets"),
}


def _valid_hhmm(value: str) -> bool:
    try:
        hh, mm = value.split(":")
        return 0 <= int(hh) <= 23 and 0 <= int(mm) <= 59 and len(mm) == 2
    except ValueError:
        return False


def get(key: str) -> Any:
    if key not in DEFAULTS:
        raise KeyError(key)
    row = Parameter.objects.filter(key=key).values_list("value", flat=True).first()
    return DEFAULTS[key] if row is None else row


def all_values() -> dict[str, Any]:
    values = dict(DEFAULTS)
    values.update({k: v for k, v in Parameter.objects.values_list("key", "value") if k in DEFAULTS})
    return values
