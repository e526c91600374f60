"""The one place that reads the wall clock. Actions take ``now`` as an argument;
entry points (API, CLI, worker) call ``clock.now()`` once per request or job."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def now() -> dt.datetime:
    return timezone.now()
