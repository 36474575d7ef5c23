"""What a browser render gives back, here or from the browser function, and how it fails.

Errors (all :class:`timer_service.egress.EgressError`, so a failed render is an ``error`` run)::

    EgressError
     ├── BlockedTargetError, ResponseTooLarge, ...  the document's own request, as egress raised it
     ├── EgressTimeout
     │    └── RenderTimeout   the page did not load within timeoutSeconds
     └── BrowserError         Chromium could not start, crashed, or the browser function failed

Both the renderer (:mod:`.browser`) and the browser function's protocol (:mod:`.browser_remote`)
use these, so neither imports the other for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from timer_service.egress import EgressError, EgressTimeout

__all__ = ["BrowserError", "RenderTimeout", "Rendered"]


class BrowserError(EgressError):
    """Chromium could not be started or crashed, or the browser function failed."""

    code = "browser_failed"


class RenderTimeout(EgressTimeout):
    """The page did not finish loading within the check's timeout."""


@dataclass(frozen=True)
class Rendered:
    """A rendered page: the document's status and headers (lower-case), final URL, the DOM's HTML.

    ``body`` is the serialized DOM after scripts ran, UTF-8 (``content-type`` says so).
    """

    status: int
    url: str
    headers: dict[str, str]
    body: bytes
