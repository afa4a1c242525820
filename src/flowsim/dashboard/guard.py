"""The dashboard's gate: every HTTP and WebSocket request must come from the dashboard's own page.

A plain ASGI wrapper around Solara's Starlette app (:func:`flowsim.dashboard.server.serve`
installs it). A request is refused with 403 unless all of these hold:

- its ``Host`` header is one of the dashboard's own addresses (``127.0.0.1:PORT``,
  ``localhost:PORT``, ``[::1]:PORT``, or the ``--host`` it was started with). A page
  served from another name that resolves to 127.0.0.1 (DNS rebinding) sends its own name
  as ``Host`` and is refused;
- its ``Origin`` header, when it has one, is ``http://`` one of those addresses. A
  WebSocket must have one: browsers always send it, so a handshake without it is not a
  page of the dashboard. A page of another origin, open in the user's browser, cannot
  open the socket that drives the page;
- it carries the per-start token: as ``?token=...`` in the URL that ``flowsim dashboard``
  prints, or in the cookie that the first such request sets (HttpOnly, SameSite=Strict,
  as Jupyter does). The token is :func:`secrets.token_urlsafe` (32 bytes) and lives only in
  the server process; it is compared in constant time.

It also caps the number of open WebSockets (one per open page), so a client that opens
pages in a loop cannot exhaust the server: :data:`MAX_SOCKETS`.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_SOCKETS = 8
"""Open pages (WebSockets) at a time; one more is refused until one closes.

A person works with one or two tabs; 8 leaves room for a few more and for reconnects,
and bounds the kernels (each holds its page's state and may run replicates)."""


def cookie_name(port: int) -> str:
    """The token cookie of the dashboard on ``port`` (cookies are not told apart by port)."""
    return f"flowsim-dashboard-token-{int(port)}"


def own_hosts(host: str, port: int, extra: Iterable[str] = ()) -> frozenset[str]:
    """``Host`` header values that name the dashboard on ``port`` (lower case, with port)."""
    names = {"127.0.0.1", "localhost", "[::1]"}
    if host not in ("", "0.0.0.0", "::"):
        names.add(f"[{host}]" if ":" in host else host)
    names.update(extra)
    hosts = {f"{name.lower()}:{int(port)}" for name in names}
    if int(port) == 80:  # a browser leaves out the default port
        hosts |= {name.lower() for name in names}
    return frozenset(hosts)


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in scope.get("headers", []):
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        # repeated headers: keep every value, so that a second Host or Origin is seen
        found[name] = f"{found[name]},{text}" if name in found else text
    return found


def _same(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


class Guard:
    """ASGI app that lets through only requests from the dashboard's own page (see module)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str,
        port: int,
        hosts: frozenset[str],
        max_sockets: int = MAX_SOCKETS,
    ):
        """Wrap ``app``; ``hosts`` from :func:`own_hosts`, ``token`` the per-start secret."""
        if len(token) < 16:
            raise ValueError("the dashboard token must be at least 16 characters")
        self.app = app
        self.token = token
        self.cookie = cookie_name(port)
        self.hosts = hosts
        self.origins = frozenset(f"http://{h}" for h in hosts)
        self.max_sockets = max_sockets
        self.open_sockets = 0

    def refusal(self, scope: Scope) -> tuple[str | None, bool]:
        """(why the request is refused or None, whether the token came in the URL)."""
        headers = _headers(scope)
        host = headers.get("host", "").strip().lower()
        if host not in self.hosts:
            return (
                f"refused: Host {host or '(none)'!r} is not this dashboard's address "
                f"(expected one of {', '.join(sorted(self.hosts))})",
                False,
            )
        origin = headers.get("origin")
        if origin is None and scope["type"] == "websocket":
            return (
                "refused: a WebSocket without an Origin header is not the dashboard's page",
                False,
            )
        if origin is not None and origin.strip().lower() not in self.origins:
            return f"refused: Origin {origin!r} is not the dashboard's own", False
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        from_url = _same((query.get("token") or [None])[-1], self.token)
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:  # a malformed Cookie header: as if there were none
            cookie = SimpleCookie()
        from_cookie = self.cookie in cookie and _same(cookie[self.cookie].value, self.token)
        if not (from_url or from_cookie):
            return (
                "refused: no valid dashboard token; open the address that `flowsim dashboard` "
                "printed (it ends in ?token=...)",
                False,
            )
        return None, from_url and not from_cookie

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass the request on (setting the token cookie when it came in the URL)."""
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        problem, set_cookie = self.refusal(scope)
        if problem is None and kind == "websocket" and self.open_sockets >= self.max_sockets:
            problem = (
                f"refused: {self.max_sockets} dashboard pages are open already; close one "
                "(the dashboard allows at most that many at a time)"
            )
        if problem is not None:
            await self._refuse(scope, receive, send, problem)
            return
        if kind == "websocket":
            self.open_sockets += 1
            try:
                await self.app(scope, receive, send)
            finally:
                self.open_sockets -= 1
            return
        if not set_cookie:
            await self.app(scope, receive, send)
            return
        value = f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict"

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.append((b"set-cookie", value.encode("latin-1")))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, problem: str) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            # closing before accepting: the server answers the handshake with 403
            await send({"type": "websocket.close", "code": 1008, "reason": problem[:120]})
            return
        body = (problem + "\n").encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 403,
                "headers": [
                    (b"content-type", b"text/plain; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


__all__ = ["MAX_SOCKETS", "Guard", "cookie_name", "own_hosts"]
