"""The dashboard's gate (flowsim.dashboard.guard) on hand-made ASGI requests, no server."""

from __future__ import annotations

import asyncio

import pytest

from flowsim.dashboard.guard import Guard, cookie_name, own_hosts

TOKEN = "t" * 43
PORT = 8765
OWN = f"127.0.0.1:{PORT}"


def _app():
    calls: list[dict] = []

    async def app(scope, receive, send):
        calls.append(scope)
        if scope["type"] == "websocket":
            await receive()
            await send({"type": "websocket.accept"})
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})

    return app, calls


def _call(guard, kind="http", host=OWN, origin=None, query="", cookie=None):
    headers = [(b"host", host.encode())] if host is not None else []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    scope = {"type": kind, "path": "/", "query_string": query.encode(), "headers": headers}
    sent: list[dict] = []

    async def receive():
        return {"type": "websocket.connect"} if kind == "websocket" else {"type": "http.request"}

    async def send(message):
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return sent


def _status(sent) -> int | str:
    first = sent[0]
    if first["type"] == "http.response.start":
        return first["status"]
    return first["type"]  # websocket.accept / websocket.close


def _guard(**kw):
    app, calls = _app()
    return Guard(app, token=TOKEN, port=PORT, hosts=own_hosts("127.0.0.1", PORT), **kw), calls


def test_token_in_the_url_sets_an_httponly_strict_cookie():
    guard, calls = _guard()
    sent = _call(guard, query=f"token={TOKEN}")
    assert _status(sent) == 200 and len(calls) == 1
    cookies = [v.decode() for k, v in sent[0]["headers"] if k == b"set-cookie"]
    assert cookies == [f"{cookie_name(PORT)}={TOKEN}; Path=/; HttpOnly; SameSite=Strict"]
    sent = _call(guard, cookie=f"other=1; {cookie_name(PORT)}={TOKEN}")
    assert _status(sent) == 200 and not [k for k, _ in sent[0]["headers"] if k == b"set-cookie"]


@pytest.mark.parametrize(
    "query, cookie",
    [
        ("", None),
        ("token=", None),
        ("token=wrong", None),
        (f"token={TOKEN[:-1]}", None),
        ("", f"{cookie_name(PORT)}=wrong"),
        ("", f"{cookie_name(PORT + 1)}={TOKEN}"),  # another dashboard's cookie
        ("", 'bad"cookie'),
    ],
)
def test_missing_or_wrong_token_is_refused(query, cookie):
    guard, calls = _guard()
    sent = _call(guard, query=query, cookie=cookie)
    assert _status(sent) == 403 and not calls
    assert b"no valid dashboard token" in sent[1]["body"]
    sent = _call(guard, "websocket", origin=f"http://{OWN}", query=query, cookie=cookie)
    assert _status(sent) == "websocket.close" and not calls


@pytest.mark.parametrize(
    "host", ["evil.example:8765", "127.0.0.1:8766", "127.0.0.1", "attacker.localhost:8765", None]
)
def test_a_foreign_host_is_refused_even_with_the_token(host):
    """DNS rebinding: the attacker's name resolves to 127.0.0.1, but the Host header says it."""
    guard, calls = _guard()
    assert _status(_call(guard, host=host, query=f"token={TOKEN}")) == 403 and not calls
    ws = _call(guard, "websocket", host=host, origin=f"http://{host}", query=f"token={TOKEN}")
    assert _status(ws) == "websocket.close" and not calls


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8765", "null", ""],
)
def test_a_foreign_origin_is_refused_even_with_the_token(origin):
    guard, calls = _guard()
    cookie = f"{cookie_name(PORT)}={TOKEN}"
    assert _status(_call(guard, origin=origin, cookie=cookie)) == 403 and not calls
    sent = _call(guard, "websocket", origin=origin, cookie=cookie)
    assert _status(sent) == "websocket.close" and sent[0]["code"] == 1008 and not calls


def test_own_origins_pass_and_a_websocket_needs_an_origin():
    guard, calls = _guard()
    cookie = f"{cookie_name(PORT)}={TOKEN}"
    for host in (OWN, f"localhost:{PORT}", f"LOCALHOST:{PORT}"):
        sent = _call(guard, "websocket", host=host, origin=f"http://{host}", cookie=cookie)
        assert _status(sent) == "websocket.accept"
    assert _status(_call(guard, origin=f"http://localhost:{PORT}", cookie=cookie)) == 200
    assert len(calls) == 4
    sent = _call(guard, "websocket", cookie=cookie)
    assert _status(sent) == "websocket.close" and len(calls) == 4


def test_open_pages_are_capped():
    started = asyncio.Event

    async def scenario():
        gate = started()
        entered = 0

        async def app(scope, receive, send):
            nonlocal entered
            entered += 1
            await receive()
            await send({"type": "websocket.accept"})
            await gate.wait()

        guard = Guard(
            app, token=TOKEN, port=PORT, hosts=own_hosts("127.0.0.1", PORT), max_sockets=2
        )
        headers = [
            (b"host", OWN.encode()),
            (b"origin", f"http://{OWN}".encode()),
            (b"cookie", f"{cookie_name(PORT)}={TOKEN}".encode()),
        ]
        scope = {"type": "websocket", "path": "/", "query_string": b"", "headers": headers}
        sent: list[dict] = []

        async def receive():
            return {"type": "websocket.connect"}

        async def send(message):
            sent.append(message)

        pages = [asyncio.create_task(guard(dict(scope), receive, send)) for _ in range(2)]
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        await guard(dict(scope), receive, send)  # a third page
        refused = [m for m in sent if m["type"] == "websocket.close"]
        gate.set()
        await asyncio.gather(*pages)
        assert guard.open_sockets == 0
        await guard(dict(scope), receive, send)  # room again once the pages closed
        return entered, refused

    entered, refused = asyncio.run(scenario())
    assert entered == 3 and len(refused) == 1 and "pages are open already" in refused[0]["reason"]


def test_a_short_token_is_refused():
    app, _ = _app()
    with pytest.raises(ValueError, match="at least 16"):
        Guard(app, token="short", port=PORT, hosts=own_hosts("127.0.0.1", PORT))


def test_own_hosts_names_the_given_address_and_loopback():
    assert own_hosts("127.0.0.1", 9) >= {"127.0.0.1:9", "localhost:9", "[::1]:9"}
    assert "10.0.0.5:9" in own_hosts("10.0.0.5", 9)
    assert "0.0.0.0:9" not in own_hosts("0.0.0.0", 9)
    assert "127.0.0.1" in own_hosts("127.0.0.1", 80), "port 80 is left out by browsers"
