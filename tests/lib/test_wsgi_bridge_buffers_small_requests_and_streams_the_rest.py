"""``hotline.lib.wsgi_bridge`` under a real uvicorn on 127.0.0.1: a small request is
read by the loop and answered from one worker-thread call; a large or chunked request
body goes through a2wsgi's streaming input; a streaming answer is sent chunk by chunk
(and closed); the write callable, HEAD and an exception in the application behave as
under a2wsgi. The application is a plain WSGI callable (Django's path through the same
bridge: tests/web/test_http_through_uvicorn_registers_exports_and_moves_large_files.py)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn

from hotline.lib.wsgi_bridge import WSGIBridge

calls: list[dict[str, Any]] = []
closed: list[str] = []


class _Stream:
    """A streaming answer that notes when it is closed (Django closes the request there)."""

    def __init__(self, parts: list[bytes]) -> None:
        self.parts = parts

    def __iter__(self) -> Iterator[bytes]:
        yield from self.parts

    def close(self) -> None:
        closed.append("stream")


def _late(start_response: Any) -> Iterator[bytes]:
    """A generator application that calls start_response only when first iterated."""
    start_response("202 Accepted", [("Content-Type", "text/plain")])
    yield b"late "
    yield b"start"


def app(environ: dict[str, Any], start_response: Any) -> Any:
    path = environ["PATH_INFO"]
    body = environ["wsgi.input"].read()
    calls.append({"path": path, "thread": threading.current_thread().name, "input": type(environ["wsgi.input"]).__name__,
                  "length": len(body)})
    if path == "/boom":
        raise RuntimeError("application failure")
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return _Stream([b"one,", b"", b"two,", b"three"])
    if path == "/late":
        return _late(start_response)
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written-")
        return [b"returned"]
    start_response("201 Created", [("Content-Type", "application/octet-stream"), ("X-Method", environ["REQUEST_METHOD"])])
    return [body[::-1]]


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(WSGIBridge(app, workers=4, buffer_limit=64 * 1024), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_a_small_body_is_read_by_the_loop_and_answered_in_one_worker_call(base: str) -> None:
    calls.clear()
    body = "东华路停水".encode() * 100
    r = httpx.post(base + "/echo", content=body)
    assert r.status_code == 201 and r.content == body[::-1] and r.headers["x-method"] == "POST"
    assert calls == [{"path": "/echo", "thread": calls[0]["thread"], "input": "_Buffered", "length": len(body)}]
    assert calls[0]["thread"].startswith("WSGI")  # a worker of the pool, not the loop's thread


def test_a_body_over_the_limit_and_a_chunked_body_stream_through_a2wsgi_whole(base: str) -> None:
    calls.clear()
    big = bytes(range(256)) * 1024  # 256 KB, four times the limit
    r = httpx.post(base + "/echo", content=big)
    assert r.status_code == 201 and r.content == big[::-1]

    def chunks() -> Iterator[bytes]:  # no Content-Length: Transfer-Encoding: chunked
        yield b"abc"
        yield b"def"

    r = httpx.post(base + "/echo", content=chunks())
    assert r.status_code == 201 and r.content == b"fedcba"
    assert [c["input"] for c in calls] == ["Body", "Body"] and [c["length"] for c in calls] == [len(big), 6]


def test_a_streaming_answer_is_sent_in_chunks_and_closed_even_when_started_late(base: str) -> None:
    closed.clear()
    with httpx.stream("GET", base + "/stream") as r:
        parts = list(r.iter_raw())
    assert r.status_code == 200 and b"".join(parts) == b"one,two,three"
    deadline = time.monotonic() + 5  # closed by the worker just after the last chunk went out
    while not closed and time.monotonic() < deadline:
        time.sleep(0.01)
    assert closed == ["stream"]
    late = httpx.get(base + "/late")
    assert late.status_code == 202 and late.content == b"late start"


def test_the_write_callable_head_and_an_application_error(base: str) -> None:
    assert httpx.get(base + "/write").content == b"written-returned"
    r = httpx.head(base + "/echo")
    assert r.status_code == 201 and r.content == b"" and r.headers["x-method"] == "HEAD"
    assert httpx.get(base + "/boom").status_code == 500
    assert httpx.post(base + "/echo", content=b"still serving").content == b"gnivres llits"


def test_concurrent_requests_each_get_their_own_answer(base: str) -> None:
    # threads, not asyncio.run: other tests of the session may leave an event loop set
    with httpx.Client(base_url=base) as client, ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda i: (lambda r: (r.status_code, r.content))(client.post("/echo", content=f"request {i}".encode())),
                            range(40)))
    assert got == [(201, f"request {i}".encode()[::-1]) for i in range(40)]
