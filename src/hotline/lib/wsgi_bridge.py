"""HTTP from uvicorn to Django's sync (WSGI) handler with one thread crossing each way.

a2wsgi (the well-kept ASGI → WSGI adapter) runs the WSGI app in a thread and makes that
thread wait for the event loop at every step: to read the request body, to send the
status and headers, to send each chunk of the body and the final empty one — four
round trips between threads per request, each a wake-up of the loop and of the worker
under the GIL. For the requests this product mostly serves (JSON and pages: a small
body with a Content-Length, a response built in memory) that is most of the adapter's
cost (docs/benchmarks.md, "Registration, fifth pass").

``WSGIBridge`` handles those requests in one round trip: the loop reads the whole body
(at most ``buffer_limit`` bytes), a worker thread runs Django and joins the response
body, the loop sends it. Everything else goes to a2wsgi unchanged:

- request bodies larger than ``buffer_limit`` or without a Content-Length (chunked
  uploads), which a2wsgi streams to Django as they arrive;
- streaming responses (``StreamingHttpResponse``, ``FileResponse``: exports,
  recordings), detected in the worker after Django answered, are sent chunk by chunk
  from the worker, each chunk waiting for the loop (as a2wsgi does), so a large file is
  never held in memory;
- lifespan and anything not HTTP.

The WSGI environ is a2wsgi's (``a2wsgi.wsgi.build_environ``), so Django sees the same
request either way.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from a2wsgi import WSGIMiddleware
from a2wsgi.wsgi import build_environ

#: request bodies up to this size are read by the loop before Django runs (Django's
#: own in-memory threshold for uploads is 2.5 MB; JSON bodies are a few KB)
BUFFER_LIMIT = 1 << 20


class _Buffered(io.BytesIO):
    """``wsgi.input`` for a body already read."""


class WSGIBridge:
    def __init__(self, app: Callable[..., Any], workers: int, buffer_limit: int = BUFFER_LIMIT) -> None:
        self.app = app
        self.buffer_limit = buffer_limit
        self.fallback = WSGIMiddleware(app, workers=workers)
        # One pool for both paths: the same number of Django threads as before.
        self.executor: ThreadPoolExecutor = self.fallback.executor

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] != "http":
            return await self.fallback(scope, receive, send)  # type: ignore[arg-type]
        length = -1
        chunked = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    length = int(value)
                except ValueError:
                    length = -1
                    chunked = True  # let a2wsgi and Django deal with a malformed length
            elif name == b"transfer-encoding":
                chunked = True
        if chunked or length > self.buffer_limit:
            return await self.fallback(scope, receive, send)  # type: ignore[arg-type]
        body = b""
        if length > 0:
            parts = []
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                parts.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(parts)
        environ = build_environ(scope, _Buffered(body))  # type: ignore[arg-type]
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()
        status, headers, content = await loop.run_in_executor(self.executor, context.run, self._run, environ, loop, send)
        if status is None:
            return  # streamed from the worker
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})

    def _run(self, environ: dict[str, Any], loop: asyncio.AbstractEventLoop, send: Callable[..., Any]) -> tuple[Any, Any, bytes]:
        """In a worker thread: Django's answer, joined when it is in memory; a streaming
        answer is sent from here chunk by chunk (``(None, None, b"")`` is returned)."""
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            code = int(status.split(" ", 1)[0])
            started[:] = [code, [(k.strip().encode("latin1").lower(), v.strip().encode("latin1")) for k, v in response_headers]]
            return written.append

        iterable = self.app(environ, start_response)
        try:
            in_memory = isinstance(iterable, (list, tuple)) or getattr(iterable, "streaming", None) is False
            if not in_memory:
                return self._stream(iterable, started, written, loop, send)
            content = b"".join([*written, *iterable])
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return started[0], started[1], content

    @staticmethod
    def _stream(iterable: Any, started: list[Any], written: list[bytes], loop: asyncio.AbstractEventLoop,
                send: Callable[..., Any]) -> tuple[None, None, bytes]:
        def out(message: dict[str, Any]) -> None:
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        def head() -> None:  # with the first chunk: a WSGI app may call start_response late
            out({"type": "http.response.start", "status": started[0], "headers": started[1]})
            for early in written:
                out({"type": "http.response.body", "body": early, "more_body": True})

        head_sent = False
        for chunk in iterable:
            if not head_sent:
                head()
                head_sent = True
            if chunk:
                out({"type": "http.response.body", "body": chunk, "more_body": True})
        if not head_sent:
            head()
        out({"type": "http.response.body", "body": b""})
        return None, None, b""


__all__ = ["WSGIBridge", "BUFFER_LIMIT"]
