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
    no_route_answer,
    status_of,
    timer_response,
    validation_answer,
)
from api.app import (
    app,
    dead_letters,
    feed_url,
    feeds,
    heartbeats,
    owner,
    ping_url,
    request_if_match,
    request_if_none_match,
    service,
    settings,
    signing_secrets,
    use_service,
    wired,
)
from api.edge import check_body, check_path_id, treat_body_as_json
from api.feeds import register as register_feeds
from api.signing_secrets import register as register_signing_secrets
from timer_service import __version__
from timer_service.backfill import BackfillRequest, BackfillResult
from timer_service.bulk import BulkRequest, BulkResult, run_bulk
from timer_service.dead_letters import DeadLetterPage, RedriveRequest, RedriveResult
from timer_service.errors import FiringBurstExceededError, TimerServiceError
from timer_service.heartbeat import PING_TOKEN_PATTERN, PingResult
from timer_service.labels import parse_selector
from timer_service.listing import TimerFilter
from timer_service.models import (
    TIMER_ID_PATTERN,
    TIMER_TOKEN_PATTERN,
    SchedulePreviewRequest,
    TimerSpec,
    TimerState,
)
from timer_service.runs import RUN_TOKEN_PATTERN, RunPage
from timer_service.service import DEFAULT_RUNS_PAGE_SIZE, MAX_PAGE_SIZE
from timer_service.views import SchedulePreview, TimerPage, TimerView, TriggerView

# The names tests and the local stack reach through this module: its parts are api.app's.
__all__ = ["app", "lambda_handler", "service", "use_service", "wired"]

logger = Logger(service="timer-api")
tracer = Tracer(service="timer-api")


TimerId = Annotated[str, Path(pattern=TIMER_ID_PATTERN, description="your id for the timer")]
TimersToken = Annotated[
    str | None,
    Query(alias="nextToken", pattern=TIMER_TOKEN_PATTERN, description="the last page's nextToken"),
]
RunsToken = Annotated[
    str | None,
    Query(alias="nextToken", pattern=RUN_TOKEN_PATTERN, description="the last page's nextToken"),
]


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
    result = service().put(
        owner(), id, spec, if_match=request_if_match(), if_none_match=request_if_none_match()
    )
    view = result.view
    if result.ping_token is not None:  # shown once: only its hash is kept
        view = view.model_copy(update={"ping_url": ping_url(result.ping_token)})
    return timer_response(view, 201 if result.created else 200)


@app.operation("GET", "/periodic/<id>", errors=(404,), links_from_put=True, summary="Read a timer")
def get_timer(id: TimerId) -> Response[TimerView]:
    return timer_response(service().get(owner(), id), 200)


@app.operation(
    "DELETE",
    "/periodic/<id>",
    errors=(404, 412),
    conditions=("If-Match",),
    links_from_put=True,
    summary="Delete a timer",
)
def delete_timer(id: TimerId) -> dict[str, str]:
    return {"id": service().delete(owner(), id, if_match=request_if_match())}


@app.operation(
    "GET",
    "/periodic",
    summary="List your timers, by id; those with the labels, job type and state asked for",
)
def list_timers(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    next_token: TimersToken = None,
    label: Annotated[
        list[str] | None,
        Query(
            max_length=20,
            description="key:value, repeatable: timers with every pair (e.g. team:payments)",
        ),
    ] = None,
    job_type: Annotated[str | None, Query(alias="jobType", max_length=64)] = None,
    state: Annotated[TimerState | None, Query()] = None,
) -> TimerPage:
    where = TimerFilter(labels=parse_selector(label or ()), job_type=job_type, state=state)
    return service().list(owner(), limit=limit, next_token=next_token, where=where)


@app.operation(
    "POST",
    "/periodic/bulk",
    summary="Pause, resume, trigger, delete or relabel the timers of a label selector or of"
    " ids, a slice a call: call again with its nextToken until it is null",
)
def bulk_timers(request: BulkRequest) -> BulkResult:
    return run_bulk(service(), owner(), request)


@app.operation(
    "POST",
    "/periodic/<id>/pause",
    errors=(404, 412),
    conditions=("If-Match",),
    links_from_put=True,
    summary="Stop a timer firing until resumed",
)
def pause_timer(id: TimerId) -> Response[TimerView]:
    view = service().set_enabled(owner(), id, enabled=False, if_match=request_if_match())
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
    view = service().set_enabled(owner(), id, enabled=True, if_match=request_if_match())
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
    result = service().trigger(owner(), id)
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
    result = service().backfill(owner(), id, request)
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
    return heartbeats().ping(token)


@app.operation(
    "POST",
    "/ping/<token>",
    errors=(404,),
    public=True,
    summary="Ping a heartbeat timer, as GET (a body is ignored)",
)
def ping_post(token: PingToken) -> PingResult:
    return heartbeats().ping(token)


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
    return service().runs(owner(), id, limit=limit, next_token=next_token)


@app.operation(
    "POST",
    "/schedules/preview",
    uses_aws=False,
    summary="The next firings of a schedule, as a timer created now would have them",
)
def preview_schedule(request: SchedulePreviewRequest) -> SchedulePreview:
    # A timer's jitter offsets derive from its owner and id: only then is the owner needed.
    caller = owner() if request.jitter_seconds and request.id is not None else "preview"
    return service().preview(request, caller)


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
    return dead_letters().look(owner(), limit=limit, token=next_token)


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
    return dead_letters().redrive(owner(), firing_ids=ids)


@app.operation(
    "GET",
    "/job-types",
    uses_aws=False,
    summary="The installed job types and the schema of their job config",
)
def list_job_types() -> list[dict[str, Any]]:
    return list(service().job_types())


# --- request and response helpers ---------------------------------------------------------


register_signing_secrets(app, owner=owner, secrets=signing_secrets)  # /signing-secrets
register_feeds(app, owner=owner, feeds=feeds, feed_url=feed_url)  # /feeds, /periodic/{id}/feed

# --- errors: mapped to HTTP here and nowhere else ----------------------------------------


@app.exception_handler(TimerServiceError)
def _domain_error(exc: TimerServiceError) -> Response[Any]:
    status = status_of(exc, default=500)
    if status >= 500:
        logger.warning("store unavailable", extra={"error": exc.message})
    response = error_response(status, exc.code, exc.message, exc.field)
    if isinstance(exc, FiringBurstExceededError):
        response.headers["Retry-After"] = str(exc.retry_after_s)
    return response


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
        check_body(event, settings().max_body_bytes)
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
