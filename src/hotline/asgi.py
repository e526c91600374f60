"""ASGI entry point: HTTP through Django's WSGI handler, WebSockets through Channels.

HTTP requests go to Django's *sync* handler in a pool of ``HOTLINE_WEB_THREADS``
threads (``hotline.lib.wsgi_bridge``: a small request in one crossing each way, large
uploads and streaming answers through a2wsgi), not to its ASGI handler. Our views are
sync (the ORM is), and under Django's ASGI handler every request bounces loop → thread (the sync
middleware chain) → loop (``get_response_async``) → thread (the view): that
cost 15 ms of CPU per ticket registration against 8–9 ms this way
(docs/benchmarks.md, "Registration: the ASGI handler"). One crossing into a
thread per request is the least a sync view can cost under an event loop.
WebSockets stay on Channels' async consumers; uvicorn serves both.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hotline.settings")

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from hotline.lib.wsgi_bridge import WSGIBridge  # noqa: E402

django_http_app = WSGIBridge(get_wsgi_application(), workers=settings.HOTLINE_WEB_THREADS)

from hotline.web.routing import websocket_urlpatterns  # noqa: E402  (after Django is set up)

application = ProtocolTypeRouter(
    {"http": django_http_app, "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))}
)
