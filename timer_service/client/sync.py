"""``TimerClient``: the timer service's API from synchronous code, on one httpx connection pool."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from timer_service.bulk_requests import BulkAction, BulkRequest, BulkResult
from timer_service.client.base import (
    DEFAULT_TIMEOUT_S,
    AuthChoice,
    ClientOptions,
    keep_chunk,
    stack_target,
    wait_after_error,
    wait_after_status,
)
from timer_service.client.calls import Body, Call, Calls, IfMatch, PageTokens, bulk_body
from timer_service.client.deployment import Deployment
from timer_service.client.retry import RetryPolicy
from timer_service.dead_letters import DeadLetter, DeadLetterPage, RedriveResult
from timer_service.feeds import FeedPage, FeedView
from timer_service.models import SchedulePreviewRequest
from timer_service.runs import RunPage, RunView
from timer_service.views import SchedulePreview, TimerPage, TimerView, TriggerView

__all__ = ["TimerClient", "preview_body"]

T = TypeVar("T")


def preview_body(
    schedule: str | SchedulePreviewRequest | Mapping[str, Any],
    *,
    timezone: str | None = None,
    count: int | None = None,
    start_at: str | None = None,
    end_at: str | None = None,
) -> SchedulePreviewRequest | Mapping[str, Any]:
    """The body of a preview: as given, or built from a schedule and the fields set."""
    if not isinstance(schedule, str):
        return schedule
    fields = {"timezone": timezone, "count": count, "startAt": start_at, "endAt": end_at}
    return {"schedule": schedule} | {k: v for k, v in fields.items() if v is not None}


class TimerClient:
    """The API of one stack: ``TimerClient("http://127.0.0.1:8080")`` (a local stack),
    ``TimerClient(url, api_key=KEY)``, ``TimerClient(url, auth="sigv4")`` or
    ``TimerClient.for_stack("TimerService")``. Use it as a context manager, or ``close()`` it;
    it is safe to share between threads.

    ``auth``: an ``httpx.Auth``; ``"auto"`` (default): the API key when given, nothing on a
    loopback address, else SigV4 (region from ``region``, the URL, then the environment);
    ``"sigv4"``; ``"none"``. ``timeout``: seconds (or an ``httpx.Timeout``) per try.
    ``max_attempts`` / ``retry``: how often a failed call is tried
    (:mod:`~timer_service.client.retry`).
    """

    def __init__(
        self,
        url: str | httpx.URL,
        *,
        auth: AuthChoice = "auto",
        api_key: str | None = None,
        region: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT_S,
        max_attempts: int | None = None,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        limits: httpx.Limits | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.options = ClientOptions(
            url,
            auth=auth,
            api_key=api_key,
            region=region,
            timeout=timeout,
            retry=retry,
            max_attempts=max_attempts,
            headers=headers,
            limits=limits,
        )
        self._http = httpx.Client(**self.options.http_options(), transport=transport)
        self._sleep = sleep

    @classmethod
    def for_stack(
        cls,
        stack: str,
        *,
        region: str | None = None,
        api_key: str | None = None,
        endpoint_url: str | None = None,
        lookup: Callable[..., Deployment] = Deployment.load,
        **options: Any,
    ) -> Self:
        """The API of a deployed stack (its ``ApiUrl`` output), signed with SigV4 in the stack's
        region, or with ``api_key``; ``lookup(stack, region=, endpoint_url=)`` reads the outputs."""
        deployment = lookup(stack, region=region, endpoint_url=endpoint_url)
        url, auth = stack_target(deployment, api_key=api_key)
        return cls(url, auth=auth, **options)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call[T]) -> T:
        """Send ``call``, tried again as its retry policy allows; its result or a typed error."""
        retry = self.options.retry
        attempt = 0
        while True:
            attempt += 1
            request = self._http.build_request(
                call.method,
                call.path,
                params=call.params,
                content=call.content,
                headers=call.headers,
            )
            try:
                response = self._http.send(request, stream=True)
                try:
                    kept: list[bytes] = []
                    for chunk in response.iter_bytes():
                        keep_chunk(response, kept, chunk)
                    response._content = b"".join(kept)  # as read() leaves it
                finally:
                    response.close()
            except httpx.TransportError as exc:
                wait = wait_after_error(call, exc, retry, attempt)
            else:
                if response.is_success:
                    return call.read(response)
                wait = wait_after_status(call, response, retry, attempt)
            self._sleep(wait)

    # --- timers ---------------------------------------------------------------------------

    def put(
        self,
        timer_id: str,
        spec: Body | None = None,
        *,
        if_match: IfMatch = None,
        if_none_match: bool = False,
    ) -> TimerView:
        """Create or replace the timer; ``if_match`` (a version, or ``"*"``: only replace) and
        ``if_none_match`` (only create) make it conditional (412 otherwise)."""
        return self.send(
            Calls.put(timer_id, spec or {}, if_match=if_match, if_none_match=if_none_match)
        )

    def get(self, timer_id: str) -> TimerView:
        return self.send(Calls.get(timer_id))

    def delete(self, timer_id: str, *, if_match: IfMatch = None) -> None:
        self.send(Calls.delete(timer_id, if_match=if_match))

    def list(
        self,
        *,
        limit: int | None = None,
        next_token: str | None = None,
        labels: Mapping[str, str] | None = None,
        job_type: str | None = None,
        state: str | None = None,
    ) -> TimerPage:
        """One page of your timers, by id (``limit`` 1-100, default 50); with ``labels`` (every
        pair), ``job_type`` or ``state`` (active, paused, completed), those that have them: such
        a page may be short, even empty, with a ``next_token`` still to follow."""
        return self.send(
            Calls.list(limit, next_token, labels=labels, job_type=job_type, state=state)
        )

    def iter_timers(
        self,
        *,
        page_size: int = 100,
        labels: Mapping[str, str] | None = None,
        job_type: str | None = None,
        state: str | None = None,
    ) -> Iterator[TimerView]:
        """Every timer of yours (with ``labels``, ``job_type``, ``state``: that has them), by
        id, a page at a time."""
        return _pages(
            lambda token: self.list(
                limit=page_size, next_token=token, labels=labels, job_type=job_type, state=state
            )
        )

    def bulk_call(self, request: BulkRequest | Mapping[str, Any]) -> BulkResult:
        """One call of a bulk action (``POST /periodic/bulk``): its next slice of timers."""
        return self.send(Calls.bulk(request))

    def bulk(
        self,
        action: BulkAction,
        *,
        selector: Mapping[str, str] | None = None,
        ids: Collection[str] | None = None,
        set_labels: Mapping[str, str] | None = None,
        remove_labels: Collection[str] | None = None,
        limit: int | None = None,
        on_call: Callable[[BulkResult], None] | None = None,
    ) -> BulkResult:
        """Pause, resume, trigger, delete or relabel every timer of ``selector`` (labels, all
        to match) or ``ids``, a slice a call, each call from the last one's token, to the end;
        ``on_call(result)`` after each call (a progress bar). What they did together."""
        results: builtins.list[BulkResult] = []
        token, tokens = None, PageTokens()
        while True:
            body = bulk_body(
                action,
                selector=selector,
                ids=ids,
                set_labels=set_labels,
                remove_labels=remove_labels,
                limit=limit,
                next_token=token,
            )
            result = self.bulk_call(body)
            results.append(result)
            if on_call is not None:
                on_call(result)
            if (token := tokens.follow(result.next_token)) is None:
                return BulkResult.total(results)

    def pause(self, timer_id: str, *, if_match: IfMatch = None) -> TimerView:
        return self.send(Calls.set_enabled(timer_id, enabled=False, if_match=if_match))

    def resume(self, timer_id: str, *, if_match: IfMatch = None) -> TimerView:
        return self.send(Calls.set_enabled(timer_id, enabled=True, if_match=if_match))

    def trigger(self, timer_id: str) -> TriggerView:
        """Fire the timer now, outside its schedule (never retried after a 5xx but a 503)."""
        return self.send(Calls.trigger(timer_id))

    def runs(
        self, timer_id: str, *, limit: int | None = None, next_token: str | None = None
    ) -> RunPage:
        """One page of the timer's runs, newest first (``limit`` 1-100, default 20)."""
        return self.send(Calls.runs(timer_id, limit, next_token))

    def iter_runs(self, timer_id: str, *, page_size: int = 100) -> Iterator[RunView]:
        return _pages(lambda token: self.runs(timer_id, limit=page_size, next_token=token))

    # --- feeds of changes ----------------------------------------------------------------

    def open_feed(self, timer_id: str) -> FeedView:
        """A new URL of the timer's Atom feed of changes (``feed_url``: in this answer only);
        the last one ends."""
        return self.send(Calls.open_feed(timer_id))

    def revoke_feed(self, timer_id: str) -> None:
        """End the timer's feed: its URL answers 404."""
        self.send(Calls.revoke_feed(timer_id))

    def open_label_feed(self, label: str) -> FeedView:
        """A new URL of the feed of your timers with ``label`` (``key=value``); the last ends."""
        return self.send(Calls.open_label_feed(label))

    def revoke_label_feed(self, label: str) -> None:
        self.send(Calls.revoke_label_feed(label))

    def feeds(self) -> FeedPage:
        """Your feeds, never their URLs."""
        return self.send(Calls.feeds())

    # --- the rest of the API --------------------------------------------------------------

    def preview(
        self,
        schedule: str | SchedulePreviewRequest | Mapping[str, Any],
        *,
        timezone: str | None = None,
        count: int | None = None,
        start_at: str | None = None,
        end_at: str | None = None,
    ) -> SchedulePreview:
        """The next firings of a schedule, as a timer created now would have them."""
        body = preview_body(
            schedule, timezone=timezone, count=count, start_at=start_at, end_at=end_at
        )
        return self.send(Calls.preview(body))

    def job_types(self) -> builtins.list[dict[str, Any]]:
        """The installed job types: name, summary, default history, schema of their ``job``."""
        return self.send(Calls.job_types())

    def dead_letters(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> DeadLetterPage:
        """One page of your dead-lettered firings, newest first."""
        return self.send(Calls.dead_letters(limit, next_token))

    def iter_dead_letters(self, *, page_size: int = 100) -> Iterator[DeadLetter]:
        return _pages(lambda token: self.dead_letters(limit=page_size, next_token=token))

    def redrive(self, firing_ids: Collection[str] | None = None) -> RedriveResult:
        """Send your dead letters (all, or these) back for delivery, up to 1,000 a call:
        call again while ``more``."""
        return self.send(Calls.redrive(firing_ids))

    def health(self) -> dict[str, Any]:
        """The API's ``{"status": "ok", "version": ...}``."""
        return self.send(Calls.health())


def _pages(read: Callable[[str | None], Any]) -> Iterator[Any]:
    token, tokens = None, PageTokens()
    while True:
        page = read(token)
        yield from page.items
        token = tokens.follow(page.next_token)
        if token is None:
            return
