"""The API's resolver and this instance's parts: the service, dead letters and heartbeats built
from the settings, the caller's identity and the request's headers (the routes are in
:mod:`api.handler`)."""

from __future__ import annotations

from api.answers import if_match, if_none_match
from api.edge import strict_json
from api.openapi import ApiAuth, DocumentedResolver
from timer_service import __version__, wiring
from timer_service.errors import UnauthorizedError
from timer_service.service import IfMatch, TimerService
from timer_service.settings import Settings

__all__ = [
    "app",
    "dead_letters",
    "feed_url",
    "feeds",
    "header",
    "heartbeats",
    "owner",
    "ping_url",
    "request_if_match",
    "request_if_none_match",
    "service",
    "settings",
    "use_service",
    "wired",
]


def _api_auth() -> ApiAuth | None:
    """How callers of this stack authenticate: as configured, else as this caller did (API
    Gateway puts the key's id, or the IAM caller's ARN, in the request context)."""
    configured = settings().api_auth
    if configured is not None:
        return configured
    identity = app.current_event.request_context.identity
    if identity.api_key_id:
        return "API_KEY"
    if identity.access_key or (identity.user_arn or "").startswith("arn:"):
        return "IAM"
    return None


app = DocumentedResolver(
    enable_validation=True,
    json_body_deserializer=strict_json,
    api_auth=_api_auth,
    open_paths=lambda: settings().open_paths,
)
app.enable_swagger(
    path="/docs",
    title="Timer Service",
    version=__version__,
    description="Register timers by id; each fires on its second into a job type.",
)
app.undocumented_paths["/docs"] = {"GET"}

wired = wiring.Wired()  # this instance's settings, clock and parts (tests set theirs)
_service = wired.part(lambda context: wiring.timer_service(context.settings, context.clock))
dead_letters = wired.part(lambda context: wiring.dead_letters(context.settings, context.clock))
heartbeats = wired.part(lambda context: wiring.heartbeats(context.settings, context.clock))
feeds = wired.part(lambda context: wiring.feeds(context.settings, context.clock))
signing_secrets = wired.part(
    lambda context: wiring.signing_secrets(context.settings, context.clock)
)


def settings() -> Settings:
    return wired.settings()


def use_service(service: TimerService | None) -> None:
    """Serve with ``service`` instead of the one built from the environment (tests, local)."""
    _service.use(service)


def service() -> TimerService:
    return _service()


def owner() -> str:
    """The caller: API key id, else IAM user ARN, from the request context."""
    identity = app.current_event.request_context.identity
    caller = identity.api_key_id or identity.user_arn or identity.caller
    if not caller:
        raise UnauthorizedError("the request carries no caller identity")
    return caller


def header(name: str) -> str | None:
    wanted = name.lower()
    headers = app.current_event.headers or {}
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _public_url(path: str) -> str:
    """Where this API is, as the request reached it (API Gateway sets X-Forwarded-Proto)."""
    scheme = header("X-Forwarded-Proto") or "http"
    host = header("Host") or "localhost"
    return f"{scheme}://{host}{app.base_path()}{path}"


def ping_url(token: str) -> str:
    return _public_url(f"/ping/{token}")


def feed_url(token: str) -> str:
    return _public_url(f"/feeds/{token}")


def request_if_match() -> IfMatch:
    return if_match(app.current_event.headers.get("If-Match"))


def request_if_none_match() -> bool:
    return if_none_match(app.current_event.headers.get("If-None-Match"))
