"""``DjangoDirectory``: the case system as the PBX sees it (``hotline.pbx.directory.PbxDirectory``).

The PBX's event loop must never wait on the database: every query runs in a
worker thread (``sync_to_async``), with stale connections closed first (the PBX
is a long-running process). ``record_call`` is idempotent by ``call_id`` and links
the agent by extension; ``call_event`` is best effort and never raises.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction

from hotline.accounts.models import User
from hotline.lib.env import ConfigError, envstr
from hotline.pbx.directory import CallEvent, CallRecord, SipAccount, Trunk
from hotline.telephony import cti
from hotline.telephony.models import CallRecord as CallRecordRow
from hotline.telephony.models import SipCredential
from hotline.telephony.models import Trunk as TrunkRow

log = logging.getLogger(__name__)


def _account(username: str) -> SipAccount | None:
    close_old_connections()
    if not username or len(username) > 16:
        return None
    cred = (
        SipCredential.objects.select_related("user")
        .filter(user__extension=username, username=username, realm=settings.HOTLINE_SIP_REALM, enabled=True, user__is_active=True)
        .first()
    )
    if cred is None:
        return None
    return SipAccount(
        username=username,
        ha1={"MD5": cred.ha1_md5, "SHA-256": cred.ha1_sha256},
        display_name=cred.user.display_name or cred.user.username,
        user_id=cred.user_id,
    )


def _trunks() -> list[Trunk]:
    close_old_connections()
    out = []
    for row in TrunkRow.objects.filter(enabled=True).prefetch_related("did_routes").order_by("name"):
        try:  # the variable itself, or a file named by <variable>_FILE (lib.env)
            password = (envstr(row.password_env) or "") if row.password_env else ""
        except ConfigError as exc:
            log.warning("trunk %s: %s", row.name, exc)
            password = ""
        if row.password_env and not password:
            log.warning("trunk %s: environment variable %s is not set; no outbound authentication", row.name, row.password_env)
        out.append(Trunk(
            name=row.name, host=row.host, port=row.port, transport=row.transport,  # type: ignore[arg-type]
            username=row.username, password=password, register=row.register, register_expires=row.expires,
            allowed_sources=tuple(row.allowed_sources or ()), outbound_prefix=row.outbound_prefix,
            caller_id=row.caller_id, did_routes={r.did: r.extension for r in row.did_routes.all()},
        ))
    return out


def _clip(value: str, limit: int) -> str:
    return (value or "")[:limit]


def _record_call(record: CallRecord) -> bool:
    """Store a CDR; False when one with this call_id exists (nothing changes)."""
    close_old_connections()
    if CallRecordRow.objects.filter(call_id=record.call_id).exists():
        return False
    agent = None
    if record.agent_extension:
        agent = User.objects.filter(extension=record.agent_extension).only("pk").first()
    try:
        with transaction.atomic():
            CallRecordRow.objects.create(
                call_id=_clip(record.call_id, 255), direction=record.direction,
                caller=_clip(record.caller, 64), callee=_clip(record.callee, 64), trunk=_clip(record.trunk, 32),
                agent_extension=_clip(record.agent_extension, 16), agent=agent,
                offered_at=record.offered_at, answered_at=record.answered_at, ended_at=record.ended_at,
                duration=record.duration_seconds, hangup_side=record.hangup_side,
                hangup_cause=_clip(record.hangup_cause, 64), recording_path=_clip(record.recording_path, 255),
            )
    except IntegrityError:  # the same call_id written concurrently: the first one wins
        return False
    return True


class DjangoDirectory:
    """The PBX's directory backed by the case system's database."""

    async def account(self, username: str) -> SipAccount | None:
        return await sync_to_async(_account)(username)

    async def trunks(self) -> Sequence[Trunk]:
        return await sync_to_async(_trunks)()

    async def record_call(self, record: CallRecord) -> None:
        await sync_to_async(_record_call)(record)

    async def call_event(self, event: CallEvent) -> None:
        try:
            payload = cti.message(event.kind, event.call_id, event.caller, event.callee, event.at.isoformat())
            await cti.deliver(event.extension, payload)
        except Exception as exc:  # noqa: BLE001 - best effort, never raises into the engine
            log.warning("call event %s for %s dropped: %s", event.kind, event.extension, exc)
