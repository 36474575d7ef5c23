"""REST API Lambda: timers by id (powertools APIGatewayRestResolver with validation and OpenAPI)."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import Server
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from api.answers import (
    edge_error,
    error_response,
    if_match,
    if_none_match,
    no_route_answer,
    status_of,
    timer_response,
    validation_answer,
)
from api.edge import check_body, check_path_id, strict_json, treat_body_as_json
from api.openapi import ApiAuth, DocumentedResolver
from api.signing_secrets import register as register_signing_secrets
from timer_service import __version__, wiring
from timer_service.backfill import BackfillRequest, BackfillResult
from timer_service.dead_letters import DeadLetterPage, RedriveRequest, RedriveResult
from timer_service.errors import TimerServiceError, UnauthorizedError
from timer_service.heartbeat import PING_TOKEN_PATTERN, PingResult
from timer_service.models import (
    TIMER_ID_PATTERN,
    TIMER_TOKEN_PATTERN,
    SchedulePreviewRequest,
    TimerSpec,
)
from timer_service.runs import RUN_TOKEN_PATTERN, RunPage
from timer_service.service import DEFAULT_RUNS_PAGE_SIZE, MAX_PAGE_SIZE, IfMatch, TimerService
from timer_service.settings import Settings
from timer_service.views import SchedulePreview, TimerPage, TimerView, TriggerView

logger = Logger(service="timer-api")
tracer = Tracer(service="timer-api")


def _api_auth() -> ApiAuth | None:
    """How callers of this stack authenticate: as configured, else as this caller did (API
    Gateway puts the key's id, or the IAM caller's ARN, in the request context)."""
    configured = _settings().api_auth
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
    open_paths=lambda: _settings().open_paths,
)
app.enable_swagger(
    path="/docs",
    title="Timer Service",
    version=__version__,
    description="Register timers by id; each fires on its second into a job type.",
)
app.undocumented_paths["/docs"] = {"GET"}

TimerId = Annotated[str, Path(pattern=TIMER_ID_PATTERN, description="your id for the timer")]
TimersToken = Annotated[
    str | None,
    Query(alias="nextToken", pattern=TIMER_TOKEN_PATTERN, description="the last page's nextToken"),
]
RunsToken = Annotated[
    str | None,
    Query(alias="nextToken", pattern=RUN_TOKEN_PATTERN, description="the last page's nextToken"),
]


wired = wiring.Wired()  # this instance's settings, clock and parts (tests set theirs)
_service = wired.part(lambda context: wiring.timer_service(context.settings, context.clock))
_dead_letters = wired.part(lambda context: wiring.dead_letters(context.settings, context.clock))
_heartbeats = wired.part(lambda context: wiring.heartbeats(context.settings, context.clock))
_signing = wired.part(lambda context: wiring.signing_secrets(context.settings, context.clock))


def _settings() -> Settings:
    return wired.settings()


def use_service(service: TimerService | None) -> None:
    """Serve with ``service`` instead of the one built from the environment (tests, local)."""
    _service.use(service)


def service() -> TimerService:
    return _service()


# --- routes -------------------------------------------------------------------------------


@app.operation("GET", "/health", uses_aws=False)
def health() -> dict[str, str]:
    return {"status": "ok", "version": __version__}


@app.operation("GET", "/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    # The server is where this request came in: /{stage} on an execute-api URL, / on a custom
    # domain or the local stack (as powertools gives Swagger UI at /docs).
    server = Server(url=app.base_path() or "/")
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(
            title="Timer Service", version=__version__, openapi_version="3.1.0", servers=[server]
        ),
    )


@app.operation(
    "PUT",
    "/periodic/<id>",
    success=(200, 201),
    errors=(412,),
    conditions=("If-Match", "If-None-Match"),
    summary="Create or replace a timer",
)
def put_timer(id: TimerId, spec: TimerSpec) -> Response[TimerView]:
    result = service().put(_owner(), id, spec, if_match=_if_match(), if_none_match=_if_none_match())
    view = result.view
    if result.ping_token is not None:  # shown once: only its hash is kept
        view = view.model_copy(update={"ping_url": _ping_url(result.ping_token)})
    return timer_response(view, 201 if result.created else 200)


@app.operation("GET", "/periodic/<id>", errors=(404,), links_from_put=True, summary="Read a timer")
def get_timer(id: TimerId) -> Response[TimerView]:
    return timer_response(service().get(_owner(), id), 200)


@app.operation(
    "DELETE",
    "/periodic/<id>",
    errors=(404, 412),
    conditions=("If-Match",),
    links_from_put=True,
    summary="Delete a timer",
)
def delete_timer(id: TimerId) -> dict[str, str]:
    return {"id": service().delete(_owner(), id, if_match=_if_match())}


@app.operation("GET", "/periodic", summary="List your timers, by id")
def list_timers(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    next_token: TimersToken = None,
) -> TimerPage:
    return service().list(_owner(), limit=limit, next_token=next_token)


@app.operation(
    "POST",
    "/periodic/<id>/pause",
    errors=(404, 412),
    conditions=("If-Match",),
    links_from_put=True,
    summary="Stop a timer firing until resumed",
)
def pause_timer(id: TimerId) -> Response[TimerView]:
    view = service().set_enabled(_owner(), id, enabled=False, if_match=_if_match())
    return timer_response(view, 200)


@app.operation(
    "POST",
    "/periodic/<id>/resume",
    errors=(404, 412),
    conditions=("If-Match",),
    links_from_put=True,
    summary="Let a paused timer fire again",
)
def resume_timer(id: TimerId) -> Response[TimerView]:
    view = service().set_enabled(_owner(), id, enabled=True, if_match=_if_match())
    return timer_response(view, 200)


@app.operation(
    "POST",
    "/periodic/<id>/trigger",
    success=(202,),
    errors=(404,),
    links_from_put=True,
    summary="Fire a timer now, outside its schedule",
)
def trigger_timer(id: TimerId) -> Response[TriggerView]:
    result = service().trigger(_owner(), id)
    view = TriggerView(id=result.id, firing_id=result.firing_id, scheduled_at=result.scheduled_at)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=view.model_dump(mode="json", by_alias=True),
    )


@app.operation(
    "POST",
    "/periodic/<id>/backfill",
    success=(202,),
    errors=(404,),
    links_from_put=True,
    summary="Fire each scheduled time of a past interval (from, to] once, now",
)
def backfill_timer(id: TimerId, request: BackfillRequest) -> Response[BackfillResult]:
    result = service().backfill(_owner(), id, request)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body=result.model_dump(mode="json", by_alias=True),
    )


PingToken = Annotated[
    str, Path(pattern=PING_TOKEN_PATTERN, description="the token of a heartbeat's ping URL")
]


@app.operation(
    "GET",
    "/ping/<token>",
    errors=(404,),
    public=True,
    summary="Ping a heartbeat timer (no other credential): its deadline moves on",
)
def ping(token: PingToken) -> PingResult:
    return _heartbeats().ping(token)


@app.operation(
    "POST",
    "/ping/<token>",
    errors=(404,),
    public=True,
    summary="Ping a heartbeat timer, as GET (a body is ignored)",
)
def ping_post(token: PingToken) -> PingResult:
    return _heartbeats().ping(token)


@app.operation(
    "GET",
    "/periodic/<id>/runs",
    errors=(404,),
    links_from_put=True,
    summary="A timer's runs, newest first",
)
def list_runs(
    id: TimerId,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_RUNS_PAGE_SIZE,
    next_token: RunsToken = None,
) -> RunPage:
    return service().runs(_owner(), id, limit=limit, next_token=next_token)


@app.operation(
    "POST",
    "/schedules/preview",
    uses_aws=False,
    summary="The next firings of a schedule, as a timer created now would have them",
)
def preview_schedule(request: SchedulePreviewRequest) -> SchedulePreview:
    # A timer's jitter offsets derive from its owner and id: only then is the owner needed.
    owner = _owner() if request.jitter_seconds and request.id is not None else "preview"
    return service().preview(request, owner)


@app.operation("GET", "/dlq", summary="Your firings in the dead-letter queue, newest first")
def list_dead_letters(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    next_token: Annotated[
        str | None,
        Query(
            alias="nextToken",
            max_length=2048,
            pattern=r"^[A-Za-z0-9_=-]+$",
            description="the last page's nextToken",
        ),
    ] = None,
) -> DeadLetterPage:
    return _dead_letters().look(_owner(), limit=limit, token=next_token)


@app.operation(
    "POST",
    "/dlq/redrive",
    summary="Send your dead-lettered firings (all, or those named) back for delivery",
)
def redrive_dead_letters(
    request: Annotated[RedriveRequest | None, Body()] = None,
) -> RedriveResult:
    # A body that is not an object never gets here (strict_json refuses it); `null` is none.
    ids = None if request is None or request.firing_ids is None else set(request.firing_ids)
    return _dead_letters().redrive(_owner(), firing_ids=ids)


@app.operation(
    "GET",
    "/job-types",
    uses_aws=False,
    summary="The installed job types and the schema of their job config",
)
def list_job_types() -> list[dict[str, Any]]:
    return list(service().job_types())


# --- request and response helpers ---------------------------------------------------------


def _owner() -> str:
    """The caller: API key id, else IAM user ARN, from the request context."""
    identity = app.current_event.request_context.identity
    owner = identity.api_key_id or identity.user_arn or identity.caller
    if not owner:
        raise UnauthorizedError("the request carries no caller identity")
    return owner


def _header(name: str) -> str | None:
    wanted = name.lower()
    headers = app.current_event.headers or {}
    return next((value for key, value in headers.items() if key.lower() == wanted), None)


def _ping_url(token: str) -> str:
    """Where this API is, as the request reached it (API Gateway sets X-Forwarded-Proto)."""
    scheme = _header("X-Forwarded-Proto") or "http"
    host = _header("Host") or "localhost"
    return f"{scheme}://{host}{app.base_path()}/ping/{token}"


def _if_match() -> IfMatch:
    return if_match(app.current_event.headers.get("If-Match"))


def _if_none_match() -> bool:
    return if_none_match(app.current_event.headers.get("If-None-Match"))


register_signing_secrets(app, owner=_owner, secrets=_signing)  # /signing-secrets

# --- errors: mapped to HTTP here and nowhere else ----------------------------------------


@app.exception_handler(TimerServiceError)
def _domain_error(exc: TimerServiceError) -> Response[Any]:
    status = status_of(exc, default=500)
    if status >= 500:
        logger.warning("store unavailable", extra={"error": exc.message})
    return error_response(status, exc.code, exc.message, exc.field)


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[Any]:
    return validation_answer(exc.errors())


@app.not_found
def _no_route(exc: NotFoundError) -> Response[Any]:
    method, path = app.current_event.http_method, app.current_event.path
    return no_route_answer(method, path, app.allowed_methods(path))


# --- entry point ----------------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        check_body(event, _settings().max_body_bytes)
        check_path_id(event)
    except TimerServiceError as exc:
        return edge_error(exc)
    head = event.get("httpMethod") == "HEAD"
    if head:  # answered as GET, without the body
        event["httpMethod"] = "GET"
    treat_body_as_json(event)
    response = app.resolve(event, context)
    if head:
        response["body"] = ""
    return response
