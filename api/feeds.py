"""The API's feeds of changes: made, rotated and revoked by their owner (``/periodic/{id}/feed``,
``/feeds``), and served as Atom at ``/feeds/{token}`` to anyone with the URL (a feed reader
signs nothing: the token is the credential). Declared on the handler's resolver by
:func:`register`, like its other operations (rules: :mod:`timer_service.feeds`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from api.openapi import DocumentedResolver
from timer_service.atom import ATOM_CONTENT_TYPE, render
from timer_service.feed_service import FeedService, NewFeed
from timer_service.feeds import FeedPage, FeedView, LabelFeedRequest
from timer_service.models import TIMER_ID_PATTERN

__all__ = ["register"]

TimerId = Annotated[str, Path(pattern=TIMER_ID_PATTERN, description="your id for the timer")]
# Any string: one that is not a feed's token is a 404, as a revoked one is.
FeedToken = Annotated[str, Path(description="the token of a feed's URL")]
_ATOM = {
    200: {
        "description": "The feed: an Atom document (RFC 4287) of the newest 50 changes",
        "content": {"application/atom+xml": {"schema": {"type": "string"}}},
    }
}
# A shared cache must not keep a document whose URL is its credential.
_FEED_HEADERS = {"Cache-Control": "private, max-age=60", "X-Content-Type-Options": "nosniff"}


def register(
    app: DocumentedResolver,
    *,
    owner: Callable[[], str],
    feeds: Callable[[], FeedService],
    feed_url: Callable[[str], str],
) -> None:
    """Declare the feed operations on ``app``: the caller is ``owner()``."""

    def created(made: NewFeed) -> Response[FeedView]:
        view = made.grant.view(feed_url(made.token))  # shown once: only its hash is kept
        return Response(
            status_code=201,
            content_type=content_types.APPLICATION_JSON,
            body=view.model_dump(mode="json", by_alias=True),
        )

    @app.operation(
        "POST",
        "/periodic/<id>/feed",
        success=(201,),
        errors=(404,),
        links_from_put=True,
        summary="A new URL of the Atom feed of a timer's changes (shown once); the last ends",
    )
    def open_timer_feed(id: TimerId) -> Response[FeedView]:
        return created(feeds().open_timer_feed(owner(), id))

    @app.operation(
        "DELETE",
        "/periodic/<id>/feed",
        errors=(404,),
        links_from_put=True,
        summary="Revoke a timer's feed: its URL answers 404 from now on",
    )
    def revoke_timer_feed(id: TimerId) -> dict[str, str]:
        feeds().revoke_timer_feed(owner(), id)
        return {"id": id}

    @app.operation(
        "POST",
        "/feeds",
        success=(201,),
        summary="A new URL of the Atom feed of the changes of your timers with a label"
        " (shown once); the last ends",
    )
    def open_label_feed(request: LabelFeedRequest) -> Response[FeedView]:
        return created(feeds().open_label_feed(owner(), request.label))

    @app.operation("GET", "/feeds", summary="Your feeds, never their URLs")
    def list_feeds() -> FeedPage:
        return FeedPage(items=[grant.view() for grant in feeds().list(owner())])

    @app.operation(
        "DELETE",
        "/feeds",
        errors=(404,),
        summary="Revoke a label's feed: its URL answers 404 from now on",
    )
    def revoke_label_feed(
        label: Annotated[str, Query(max_length=130, description="key=value (or key:value)")],
    ) -> dict[str, str]:
        return {"label": feeds().revoke_label_feed(owner(), label)}

    @app.operation(
        "GET",
        "/feeds/<token>",
        errors=(404,),
        public=True,
        responses=_ATOM,
        summary="A feed of changes, as Atom (no other credential: the token is it)",
    )
    def read_feed(token: FeedToken) -> Response[str]:
        text = render(feeds().read(token), self_url=feed_url(token))
        return Response(
            status_code=200, content_type=ATOM_CONTENT_TYPE, body=text, headers=_FEED_HEADERS
        )
