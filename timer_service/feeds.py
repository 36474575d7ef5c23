"""Feeds of changes: what a feed is of, its token, and the views the API answers.

A feed is an Atom document of the ``changed`` runs of one timer, or of all an owner's timers
that have one label (:mod:`timer_service.feed_service` reads it, :mod:`timer_service.atom` writes
it). Feed readers cannot sign requests, so the feed's URL holds its only credential: a token
of 256 random bits, made as a heartbeat's ping token is (:func:`timer_service.heartbeat.new_token`)
and kept only as its SHA-256. Two items hold a feed (:mod:`timer_service.keys`): the token's,
found from the request alone, and its *scope*'s (the owner's feed of that timer or label),
which names the current token: a feed is served only while its scope still names it, so a new
token (a rotation) or a revocation ends the old URL at once, and deleting a timer (which
deletes its scope item in the same transaction) ends its feed.

    >>> parse_label("team=payments"), parse_label("team:payments")
    (('team', 'payments'), ('team', 'payments'))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import ConfigDict, Field
from pydantic.alias_generators import to_camel

from timer_service.camel import CamelModel
from timer_service.clock import format_utc
from timer_service.errors import InvalidRequestError
from timer_service.labels import parse_pair

__all__ = [
    "FEED_TOKEN_PATTERN",
    "FeedGrant",
    "FeedKind",
    "FeedPage",
    "FeedView",
    "LabelFeedRequest",
    "feed_scope",
    "parse_label",
]

FEED_TOKEN_PATTERN = r"^[A-Za-z0-9_-]{43}$"  # 32 bytes, url-safe base64 without padding
FeedKind = Literal["timer", "label"]
_SCOPE_PREFIX: dict[FeedKind, str] = {"timer": "t", "label": "l"}


def feed_scope(kind: FeedKind, name: str) -> str:
    """The sort key of a feed's scope item: ``t#{timer id}`` or ``l#{key}={value}``."""
    return f"{_SCOPE_PREFIX[kind]}#{name}"


def parse_label(text: str, *, field: str = "label") -> tuple[str, str]:
    """``key=value`` (the command line's form) or ``key:value`` (the ``label`` query
    parameter's) as a checked pair: a key holds neither ``=`` nor ``:``, so either splits at
    the first; InvalidRequestError naming ``field`` otherwise."""
    if not isinstance(text, str):
        raise InvalidRequestError(f"{field}: a label is key=value", field=field)
    separator = "=" if "=" in text else ":"
    return parse_pair(text, separator=separator, field=field)


@dataclass(frozen=True)
class FeedGrant:
    """A feed as the store keeps it: its token's hash, whose it is, and of what.

    ``name`` is the timer's id (kind ``timer``) or the label ``key=value`` (kind ``label``);
    ``incarnation`` is a timer feed's timer's creation second (a timer created again under the
    id is another timer, whose runs this feed never shows).
    """

    token_hash: str
    owner: str
    kind: FeedKind
    name: str
    created_s: int
    incarnation: int | None = None

    @property
    def scope(self) -> str:
        return feed_scope(self.kind, self.name)

    def view(self, feed_url: str | None = None) -> FeedView:
        return FeedView(
            feed_url=feed_url,
            timer_id=self.name if self.kind == "timer" else None,
            label=self.name if self.kind == "label" else None,
            created_at=format_utc(self.created_s),
        )


class FeedView(CamelModel):
    """A feed as the API shows it: its URL only in the answer that made it."""

    feed_url: str | None = Field(
        default=None,
        description="the feed's URL, shown once, when it is made: the service keeps only the"
        " SHA-256 of its token, the one credential a feed reader needs",
    )
    timer_id: str | None = Field(default=None, description="a timer's feed: the timer")
    label: str | None = Field(default=None, description="a label's feed: key=value")
    created_at: str = Field(description="when this URL was made (a new one ends the last)")


class FeedPage(CamelModel):
    """The caller's feeds (labels' then timers', each by name), never their URLs."""

    items: list[FeedView]


class LabelFeedRequest(CamelModel):
    """The body of ``POST /feeds``: the label whose timers' changes the feed holds."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=False, extra="forbid", frozen=True
    )

    label: str = Field(
        max_length=130,
        description="key=value (or key:value, as the label query parameter): the changes of"
        " every timer of yours with this label",
        examples=["team=payments"],
    )
