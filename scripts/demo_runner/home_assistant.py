"""Home Assistant's REST and WebSocket APIs, as far as the demo uses them."""

from __future__ import annotations

from typing import Any

import aiohttp

from .http_json import DemoError, request_json, wait_for

# What onboarding_done() reports for an instance that finished onboarding.
ONBOARDED: dict[str, bool] = {"user": True}


def form_values(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what a serialized form shows filled in: suggested values, else defaults."""
    values: dict[str, Any] = {}
    for field in fields:
        suggested = (field.get("description") or {}).get("suggested_value")
        if suggested is not None:
            values[field["name"]] = suggested
        elif "default" in field:
            values[field["name"]] = field["default"]
    return values


class HomeAssistantApi:
    """A client of one Home Assistant instance, authenticated once a token is set."""

    def __init__(self, session: aiohttp.ClientSession, base_url: str) -> None:
        """Talk to the instance at base_url, e.g. `http://127.0.0.1:8123`."""
        self.session = session
        self.base_url = base_url
        # The frontend's own client id: onboarding and login accept it on any instance.
        self.client_id = f"{base_url}/"
        self.token: str | None = None
        self._ws_id = 0

    def _headers(self) -> dict[str, str]:
        """Return the authorization header."""
        if self.token is None:
            raise DemoError("no Home Assistant access token yet")
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, *, ok: tuple[int, ...] = (200,)) -> Any:
        """GET an authenticated API path."""
        return await request_json(
            self.session, "GET", self.base_url + path, headers=self._headers(), ok=ok
        )

    async def get_bytes(self, path: str) -> tuple[str, bytes]:
        """GET an authenticated path that is not JSON; return its content type and body."""
        url = self.base_url + path
        try:
            async with self.session.get(url, headers=self._headers()) as response:
                if response.status != 200:
                    raise DemoError(f"GET {url} answered {response.status}")
                return response.content_type, await response.read()
        except aiohttp.ClientError as err:
            raise DemoError(f"GET {url} failed: {err}") from err

    async def post(
        self, path: str, body: Any = None, *, ok: tuple[int, ...] = (200, 201)
    ) -> Any:
        """POST JSON to an authenticated API path."""
        return await request_json(
            self.session,
            "POST",
            self.base_url + path,
            json=body,
            headers=self._headers(),
            ok=ok,
        )

    async def delete(self, path: str) -> Any:
        """DELETE an authenticated API path."""
        return await request_json(
            self.session, "DELETE", self.base_url + path, headers=self._headers()
        )

    # ----- start-up and onboarding --------------------------------------------------------

    async def onboarding_done(self) -> dict[str, bool]:
        """Return which onboarding steps are done (needs no token); {} once onboarded."""
        url = f"{self.base_url}/api/onboarding"
        async with self.session.get(url) as response:
            # An onboarded instance no longer serves the onboarding API at all.
            if response.status == 404:
                return ONBOARDED
            if response.status != 200:
                raise DemoError(f"GET {url} answered {response.status}")
            steps = await response.json()
        return {step["step"]: step["done"] for step in steps}

    async def wait_until_serving(self, timeout: float) -> dict[str, bool]:
        """Wait until the HTTP API answers; return the onboarding status."""
        status: dict[str, bool] = await wait_for(
            "Home Assistant's HTTP server", self.onboarding_done, timeout, interval=0.1
        )
        return status

    async def onboard(self, *, name: str, username: str, password: str) -> None:
        """Create the owner through onboarding, take its token, finish the integration step."""
        answer = await request_json(
            self.session,
            "POST",
            f"{self.base_url}/api/onboarding/users",
            json={
                "client_id": self.client_id,
                "name": name,
                "username": username,
                "password": password,
                "language": "en",
            },
        )
        tokens = await request_json(
            self.session,
            "POST",
            f"{self.base_url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": answer["auth_code"],
                "client_id": self.client_id,
            },
        )
        self.token = tokens["access_token"]
        await self.post(
            "/api/onboarding/integration",
            {
                "client_id": self.client_id,
                "redirect_uri": f"{self.client_id}?auth_callback=1",
            },
        )

    async def long_lived_token(self, name: str) -> str:
        """Create a long-lived access token, so later runs need no login."""
        token: str = await self.ws_command(
            "auth/long_lived_access_token", client_name=name, lifespan=3650
        )
        return token

    async def wait_until_running(self, timeout: float) -> None:
        """Wait until Home Assistant has finished starting."""

        async def running() -> bool:
            config = await self.get("/api/config")
            return bool(config.get("state") == "RUNNING")

        await wait_for(
            "Home Assistant to finish starting", running, timeout, interval=0.1
        )

    # ----- states and actions --------------------------------------------------------------

    async def state(self, entity_id: str) -> dict[str, Any] | None:
        """Return an entity's state object, or None if it has none."""
        found: dict[str, Any] | None = await self.get(
            f"/api/states/{entity_id}", ok=(200, 404)
        )
        return found if found and "state" in found else None

    async def call_action(
        self, domain: str, service: str, data: dict[str, Any] | None = None
    ) -> Any:
        """Perform an action (call a service) and return the states it changed."""
        return await self.post(f"/api/services/{domain}/{service}", data or {})

    # ----- config entries --------------------------------------------------------------------

    async def config_entries(self, domain: str) -> list[dict[str, Any]]:
        """Return the domain's config entries."""
        entries: list[dict[str, Any]] = await self.get(
            f"/api/config/config_entries/entry?domain={domain}"
        )
        return entries

    async def delete_config_entry(self, entry_id: str) -> None:
        """Remove a config entry."""
        await self.delete(f"/api/config/config_entries/entry/{entry_id}")

    async def config_flow(
        self, handler: str, steps: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Start a config flow and answer its steps in order; return the last result."""
        result = await self.post(
            "/api/config/config_entries/flow",
            {"handler": handler, "show_advanced_options": True},
        )
        return await self._drive("/api/config/config_entries/flow", result, steps)

    async def options_flow(
        self,
        entry_id: str,
        changes: dict[str, Any],
        started: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Answer an entry's one-step options form (started here unless given): its values, with changes."""
        result = started or await self.post(
            "/api/config/config_entries/options/flow", {"handler": entry_id}
        )
        answer = form_values(result.get("data_schema", [])) | changes
        return await self._drive(
            "/api/config/config_entries/options/flow", result, [answer]
        )

    async def _drive(
        self, base: str, result: dict[str, Any], steps: list[dict[str, Any]]
    ) -> dict[str, Any]:
        """Answer a flow's steps; a form that comes back with errors is a DemoError."""
        for answer in steps:
            if result.get("type") not in ("form", "menu"):
                raise DemoError(f"the flow ended early: {result}")
            result = await self.post(f"{base}/{result['flow_id']}", answer)
            if result.get("errors"):
                raise DemoError(
                    f"the flow refused step {result.get('step_id')}: {result['errors']}"
                )
        if result.get("type") != "create_entry":
            raise DemoError(f"the flow did not finish: {result}")
        return result

    # ----- WebSocket -------------------------------------------------------------------------

    async def ws_command(self, command: str, **data: Any) -> Any:
        """Send one WebSocket command on a fresh connection and return its result."""
        url = self.base_url.replace("http", "ws", 1) + "/api/websocket"
        try:
            async with self.session.ws_connect(url) as ws:
                await ws.receive_json()  # auth_required
                await ws.send_json({"type": "auth", "access_token": self.token})
                if (auth := await ws.receive_json()).get("type") != "auth_ok":
                    raise DemoError(
                        f"WebSocket authentication failed: {auth.get('message')}"
                    )
                self._ws_id += 1
                await ws.send_json({"id": self._ws_id, "type": command, **data})
                reply = await ws.receive_json()
        except (aiohttp.ClientError, TypeError, ValueError) as err:
            raise DemoError(f"WebSocket command {command} failed: {err}") from err
        if not reply.get("success"):
            raise DemoError(f"WebSocket command {command} failed: {reply.get('error')}")
        return reply.get("result")
