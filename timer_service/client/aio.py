"""``AsyncTimerClient``: the timer service's API from asyncio code; the same calls as
:class:`~timer_service.client.TimerClient`, awaited."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
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
from timer_service.client.sync import preview_body
from timer_service.dead_letters import DeadLetter, DeadLetterPage, RedriveResult
from timer_service.feeds import FeedPage, FeedView
from timer_service.models import SchedulePreviewRequest
from timer_service.runs import RunPage, RunView
from timer_service.views import SchedulePreview, TimerPage, TimerView, TriggerView

__all__ = ["AsyncTimerClient"]

T = TypeVar("T")


class AsyncTimerClient:
    """The API of one stack, for asyncio: ``async with AsyncTimerClient(url) as client:
    await client.put(...)``. Takes what :class:`~timer_service.client.TimerClient` takes;
    many calls may be in flight at once on its connection pool (``limits``)."""

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
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
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
        self._http = httpx.AsyncClient(**self.options.http_options(), transport=transport)
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
        """As :meth:`TimerClient.for_stack <timer_service.client.TimerClient.for_stack>` (the
        outputs are read before the event loop is involved: call it once, at start)."""
        deployment = lookup(stack, region=region, endpoint_url=endpoint_url)
        url, auth = stack_target(deployment, api_key=api_key)
        return cls(url, auth=auth, **options)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call[T]) -> T:
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
                response = await self._http.send(request, stream=True)
                try:
                    kept: list[bytes] = []
                    async for chunk in response.aiter_bytes():
                        keep_chunk(response, kept, chunk)
                    response._content = b"".join(kept)  # as read() leaves it
                finally:
                    await response.aclose()
            except httpx.TransportError as exc:
                wait = wait_after_error(call, exc, retry, attempt)
            else:
                if response.is_success:
                    return call.read(response)
                wait = wait_after_status(call, response, retry, attempt)
            await self._sleep(wait)

    # --- timers ---------------------------------------------------------------------------

    async def put(
        self,
        timer_id: str,
        spec: Body | None = None,
        *,
        if_match: IfMatch = None,
        if_none_match: bool = False,
    ) -> TimerView:
        """Create or replace the timer; ``if_match`` / ``if_none_match`` make it conditional."""
        return await self.send(
            Calls.put(timer_id, spec or {}, if_match=if_match, if_none_match=if_none_match)
        )

    async def get(self, timer_id: str) -> TimerView:
        return await self.send(Calls.get(timer_id))

    async def delete(self, timer_id: str, *, if_match: IfMatch = None) -> None:
        await self.send(Calls.delete(timer_id, if_match=if_match))

    async def list(
        self,
        *,
        limit: int | None = None,
        next_token: str | None = None,
        labels: Mapping[str, str] | None = None,
        job_type: str | None = None,
        state: str | None = None,
    ) -> TimerPage:
        return await self.send(
            Calls.list(limit, next_token, labels=labels, job_type=job_type, state=state)
        )

    async def iter_timers(
        self,
        *,
        page_size: int = 100,
        labels: Mapping[str, str] | None = None,
        job_type: str | None = None,
        state: str | None = None,
    ) -> AsyncIterator[TimerView]:
        """Every timer of yours (that has ``labels``, ...), by id, a page at a time:
        ``async for timer in ...``."""
        token, tokens = None, PageTokens()
        while True:
            page = await self.list(
                limit=page_size, next_token=token, labels=labels, job_type=job_type, state=state
            )
            for timer in page.items:
                yield timer
            if (token := tokens.follow(page.next_token)) is None:
                return

    async def bulk_call(self, request: BulkRequest | Mapping[str, Any]) -> BulkResult:
        return await self.send(Calls.bulk(request))

    async def bulk(
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
        """As :meth:`TimerClient.bulk <timer_service.client.TimerClient.bulk>`: every slice,
        to the end."""
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
            result = await self.bulk_call(body)
            results.append(result)
            if on_call is not None:
                on_call(result)
            if (token := tokens.follow(result.next_token)) is None:
                return BulkResult.total(results)

    async def pause(self, timer_id: str, *, if_match: IfMatch = None) -> TimerView:
        return await self.send(Calls.set_enabled(timer_id, enabled=False, if_match=if_match))

    async def resume(self, timer_id: str, *, if_match: IfMatch = None) -> TimerView:
        return await self.send(Calls.set_enabled(timer_id, enabled=True, if_match=if_match))

    async def trigger(self, timer_id: str) -> TriggerView:
        return await self.send(Calls.trigger(timer_id))

    async def runs(
        self, timer_id: str, *, limit: int | None = None, next_token: str | None = None
    ) -> RunPage:
        return await self.send(Calls.runs(timer_id, limit, next_token))

    async def iter_runs(self, timer_id: str, *, page_size: int = 100) -> AsyncIterator[RunView]:
        token, tokens = None, PageTokens()
        while True:
            page = await self.runs(timer_id, limit=page_size, next_token=token)
            for run in page.items:
                yield run
            if (token := tokens.follow(page.next_token)) is None:
                return

    # --- feeds of changes ----------------------------------------------------------------

    async def open_feed(self, timer_id: str) -> FeedView:
        return await self.send(Calls.open_feed(timer_id))

    async def revoke_feed(self, timer_id: str) -> None:
        await self.send(Calls.revoke_feed(timer_id))

    async def open_label_feed(self, label: str) -> FeedView:
        return await self.send(Calls.open_label_feed(label))

    async def revoke_label_feed(self, label: str) -> None:
        await self.send(Calls.revoke_label_feed(label))

    async def feeds(self) -> FeedPage:
        return await self.send(Calls.feeds())

    # --- the rest of the API --------------------------------------------------------------

    async def preview(
        self,
        schedule: str | SchedulePreviewRequest | Mapping[str, Any],
        *,
        timezone: str | None = None,
        count: int | None = None,
        start_at: str | None = None,
        end_at: str | None = None,
    ) -> SchedulePreview:
        body = preview_body(
            schedule, timezone=timezone, count=count, start_at=start_at, end_at=end_at
        )
        return await self.send(Calls.preview(body))

    async def job_types(self) -> builtins.list[dict[str, Any]]:
        return await self.send(Calls.job_types())

    async def dead_letters(
        self, *, limit: int | None = None, next_token: str | None = None
    ) -> DeadLetterPage:
        return await self.send(Calls.dead_letters(limit, next_token))

    async def iter_dead_letters(self, *, page_size: int = 100) -> AsyncIterator[DeadLetter]:
        token, tokens = None, PageTokens()
        while True:
            page = await self.dead_letters(limit=page_size, next_token=token)
            for letter in page.items:
                yield letter
            if (token := tokens.follow(page.next_token)) is None:
                return

    async def redrive(self, firing_ids: Collection[str] | None = None) -> RedriveResult:
        return await self.send(Calls.redrive(firing_ids))

    async def health(self) -> dict[str, Any]:
        return await self.send(Calls.health())
