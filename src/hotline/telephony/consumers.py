"""``/ws/cti/``: the desk's end of the screen-pop. A logged-in user with an extension
joins the group of that extension and receives its call events (ringing, answered,
ended). Browsers only listen."""

from __future__ import annotations

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from hotline.telephony.cti import KINDS, group_for


class CtiConsumer(AsyncJsonWebsocketConsumer):
    group: str | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            await self.close(code=4401)
            return
        group = group_for(user.extension or "")
        if group is None:
            await self.close(code=4403)  # no extension: nothing will ever ring here
            return
        self.group = group
        await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Browsers only listen."""

    async def cti_event(self, event: dict[str, Any]) -> None:
        if event.get("kind") not in KINDS:
            return
        await self.send_json({k: str(event.get(k) or "") for k in ("kind", "call_id", "caller", "callee", "at")})
