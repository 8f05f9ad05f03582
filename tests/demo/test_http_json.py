"""JSON over HTTP, waiting, and filling in Home Assistant's forms."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import ClientSession, web
import pytest

from scripts.demo_runner.emulator_control import EmulatorControl
from scripts.demo_runner.home_assistant import ONBOARDED, HomeAssistantApi, form_values
from scripts.demo_runner.http_json import DemoError, request_json, wait_for


@pytest.fixture
async def server() -> AsyncIterator[str]:
    """Serve JSON, an error status, an empty body and a 404 onboarding API on loopback."""

    async def ok(request: web.Request) -> web.Response:
        return web.json_response({"method": request.method})

    async def broken(request: web.Request) -> web.Response:
        return web.Response(status=500, text="boom")

    async def empty(request: web.Request) -> web.Response:
        return web.Response(status=200)

    app = web.Application()
    app.router.add_route("*", "/ok", ok)
    app.router.add_get("/broken", broken)
    app.router.add_get("/empty", empty)
    app.router.add_get("/control/calls/{call_id}/recording.wav", broken)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


async def test_request_json(server: str) -> None:
    """JSON comes back; other statuses and unreachable servers are DemoErrors."""
    async with ClientSession() as session:
        assert await request_json(session, "POST", f"{server}/ok", json={}) == {
            "method": "POST"
        }
        assert await request_json(session, "GET", f"{server}/empty") is None
        with pytest.raises(DemoError, match="answered 500: boom"):
            await request_json(session, "GET", f"{server}/broken")
        with pytest.raises(DemoError, match="failed"):
            await request_json(session, "GET", "http://127.0.0.1:1/x")


async def test_onboarded_instance_and_missing_token(server: str) -> None:
    """A 404 onboarding API means onboarded; API calls need a token first."""
    async with ClientSession() as session:
        api = HomeAssistantApi(session, server)
        assert await api.onboarding_done() == ONBOARDED
        with pytest.raises(DemoError, match="no Home Assistant access token"):
            await api.get("/ok")
        api.token = "t"
        assert await api.get("/ok") == {"method": "GET"}
        api.base_url = f"{server}/broken#"
        with pytest.raises(DemoError, match="answered 500"):
            await api.onboarding_done()


async def test_recording_errors(server: str) -> None:
    """A recording the emulator cannot give is a DemoError."""
    async with ClientSession() as session:
        with pytest.raises(DemoError, match="answered 500"):
            await EmulatorControl(session, server).recording("1")
        with pytest.raises(DemoError, match="failed"):
            await EmulatorControl(session, "http://127.0.0.1:1").recording("1")


async def test_wait_for_returns_the_first_real_value() -> None:
    """None and False mean not yet; errors are retried; a timeout names the last error."""
    answers: list[object] = [None, False, DemoError("not yet"), {"a": 1}]

    async def probe() -> object:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await wait_for("x", probe, 5.0, interval=0.001) == {"a": 1}

    async def failing() -> object:
        raise DemoError("down")

    with pytest.raises(DemoError, match=r"waiting for the thing \(last error: down\)"):
        await wait_for("the thing", failing, 0.01, interval=0.001)


def test_form_values_prefers_suggested_values() -> None:
    """Suggested values win over defaults; fields with neither are left out."""
    fields = [
        {"name": "a", "default": 1, "description": {"suggested_value": 2}},
        {"name": "b", "default": 3},
        {"name": "c", "description": {"suggested_value": "x"}},
        {"name": "d", "required": False},
    ]
    assert form_values(fields) == {"a": 2, "b": 3, "c": "x"}
