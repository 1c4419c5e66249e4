"""The guards every request passes (pure ASGI middleware, so streams pass through):

- `BodyLimit`: a body over the limit is refused with 413, by its Content-Length or as it
  streams in (uploads have their own, larger limit);
- `Guard`: the token (a bearer header, the cookie, or `?token=` once, which sets the
  cookie); the Host header when serving on loopback (a DNS-rebinding page cannot reach
  the dashboard); and, for requests that change something, no cross-site origin.

And the path checks: names that may become file names, and paths that must stay inside a
folder.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.exceptions import HTTPException

from gpufleet.ui.settings import UiSettings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "gpufleet_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UPLOAD_PREFIX = "/api/uploads/"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def safe_name(name: str) -> bool:
    """A plain file name: letters, digits, `.`, `_`, `-`; not hidden, no separators, no `..`."""
    return bool(_NAME.match(name)) and ".." not in name


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, with every link followed, lies inside `folder`."""
    try:
        return path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError):
        return False


def tokens_match(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


async def _reply(send: Send, status: int, body: bytes, content_type: str,
                 headers: list[tuple[bytes, bytes]] | None = None) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


async def refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    """A JSON error for the API and scripts, a short page for a browser."""
    accept = _header(scope, b"accept")
    if scope["path"].startswith("/api/") or "text/html" not in accept:
        await _reply(send, status, json.dumps({"detail": message}).encode(), "application/json")
    else:
        page = (f"<!doctype html><meta charset='utf-8'><title>gpufleet: {status}</title>"
                f"<body style='font-family:system-ui;margin:3rem'><h1>{status}</h1><p>{_escape(message)}</p>")
        await _reply(send, status, page.encode(), "text/html; charset=utf-8")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


class BodyLimit:
    """Refuse request bodies over `limit` bytes (uploads: over `upload_limit`) with 413."""

    def __init__(self, app: App, limit: int, upload_limit: int) -> None:
        self.app, self.limit, self.upload_limit = app, limit, upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_limit if scope["path"].startswith(UPLOAD_PREFIX) else self.limit
        length = _header(scope, b"content-length")
        if length:
            if not length.isdigit():
                await refuse(scope, send, 400, "Content-Length is not a number")
                return
            if int(length) > limit:
                await refuse(scope, send, 413, f"request body over the limit of {limit:,} bytes")
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge as error:
            if started:
                raise
            await refuse(scope, send, 413, f"request body over the limit of {error.limit:,} bytes")


class _TooLarge(HTTPException):
    """A body that grew over the limit as it streamed in (an HTTPException, so that the
    framework answers 413 wherever the body is read)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body over the limit of {limit:,} bytes")
        self.limit = limit


class Guard:
    """The token on every request, the Host header on loopback, no cross-site changes."""

    def __init__(self, app: App, settings: UiSettings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        hosts = self.settings.allowed_hosts
        if hosts and _host_name(_header(scope, b"host")) not in hosts:
            await refuse(scope, send, 421, "this dashboard answers only to localhost (a page on another site "
                                           "tried to reach it through its own name)")
            return
        token = self.settings.token
        if token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            if scope.get("method") == "GET" and "token" in query and tokens_match(query["token"], token):
                await self._login(scope, send, query, token)
                return
            if not self._authorised(scope, token):
                await refuse(scope, send, 401, "this dashboard needs its token: open the address `gpufleet ui` "
                                               "printed (it ends in ?token=...), or send 'Authorization: Bearer "
                                               "TOKEN'")
                return
        if scope.get("method") not in SAFE_METHODS and _cross_site(scope):
            await refuse(scope, send, 403, "a request from another site may not change anything here")
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope, token: str) -> bool:
        bearer = _header(scope, b"authorization")
        if bearer.lower().startswith("bearer ") and tokens_match(bearer[7:].strip(), token):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(_header(scope, b"cookie"))
        except Exception:  # a malformed Cookie header is no token
            return False
        morsel = cookie.get(COOKIE)
        return morsel is not None and tokens_match(morsel.value, token)

    async def _login(self, scope: Scope, send: Send, query: dict[str, str], token: str) -> None:
        """`?token=` once: set the cookie and send the browser to the address without it."""
        rest = urlencode({key: value for key, value in query.items() if key != "token"})
        target = scope["path"] + (f"?{rest}" if rest else "")
        cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
        await _reply(send, 303, b"", "text/plain", [(b"location", target.encode()),
                                                    (b"set-cookie", cookie.encode())])


def _host_name(host: str) -> str:
    """'127.0.0.1:8000' -> '127.0.0.1'; '[::1]:8000' -> '::1'."""
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cross_site(scope: Scope) -> bool:
    """A browser says where a request comes from: another site's page may not post here."""
    if _header(scope, b"sec-fetch-site") in ("cross-site", "same-site"):
        return True
    origin = _header(scope, b"origin")
    if not origin or origin == "null":
        return origin == "null"
    return origin.split("://", 1)[-1] != _header(scope, b"host")
