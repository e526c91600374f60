"""Live call events for the agent's desk (screen-pop), from the PBX to browsers.

The PBX calls ``DjangoDirectory.call_event``; the event reaches the browsers of the
agent with that extension through the Channels group ``cti.ext.<extension>``
(``consumers.CtiConsumer`` at ``/ws/cti/``).

The PBX is a process of its own. With a shared channel layer (``REDIS_URL``) it sends
to the group directly. With the embedded default's in-memory layer a ``group_send``
in the PBX process would reach nobody, so the PBX posts the event to the web process
instead (``POST /api/telephony/cti/events`` on ``HOTLINE_CTI_URL``, default the
``HOTLINE_HTTP_LISTEN`` address on loopback), signed with an HMAC of
``HOTLINE_SIP_SECRET``; the web process then sends it to the group.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
import urllib.request
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from hotline.telephony.config import sip_secret

log = logging.getLogger(__name__)

KINDS = ("ringing", "answered", "ended")
EXTENSION_RE = re.compile(r"^[0-9A-Za-z_.\-]{1,16}$")
SIGNATURE_HEADER = "X-Hotline-Cti-Signature"
MAX_SKEW_SECONDS = 60
POST_TIMEOUT = 2.0


def group_for(extension: str) -> str | None:
    """The Channels group of an extension (None when it is not a valid group name)."""
    return f"cti.ext.{extension}" if extension and EXTENSION_RE.match(extension) else None


def message(kind: str, call_id: str, caller: str, callee: str, at: str) -> dict[str, Any]:
    return {"type": "cti.event", "kind": kind, "call_id": call_id, "caller": caller, "callee": callee, "at": at}


def shared_layer() -> bool:
    """Whether every process shares one channel layer (not the in-memory default)."""
    backend = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    return not backend.endswith("InMemoryChannelLayer")


def cti_url() -> str:
    if settings.HOTLINE_CTI_URL:
        return str(settings.HOTLINE_CTI_URL)
    import os

    from hotline.cases.management.commands.serve import DEFAULT_LISTEN, parse_listen

    host, port = parse_listen(os.environ.get("HOTLINE_HTTP_LISTEN") or DEFAULT_LISTEN)
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/api/telephony/cti/events"


def sign(body: bytes) -> str:
    return hmac.new(sip_secret(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str) -> bool:
    return bool(signature) and hmac.compare_digest(sign(body), signature)


async def group_send(extension: str, payload: dict[str, Any]) -> bool:
    group = group_for(extension)
    layer = get_channel_layer()
    if group is None or layer is None:
        return False
    await layer.group_send(group, payload)
    return True


def _post(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", SIGNATURE_HEADER: sign(body)})
    with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as response:  # noqa: S310 - our own web process
        return int(response.status)


async def deliver(extension: str, payload: dict[str, Any]) -> bool:
    """Send one event to the extension's desk, from any process. Never raises."""
    try:
        if shared_layer():
            return await group_send(extension, payload)
        body = json.dumps({"extension": extension, "sent": time.time(), **{k: v for k, v in payload.items() if k != "type"}}).encode()
        status = await sync_to_async(_post, thread_sensitive=False)(cti_url(), body)
        return status == 202
    except Exception as exc:  # noqa: BLE001 - best effort: a screen-pop must never break a call
        log.warning("CTI event for extension %s not delivered: %s", extension, exc)
        return False
