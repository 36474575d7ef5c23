"""The browser function's handler: render one page for a callback (``BROWSER_FUNCTION``).

It takes the request of :mod:`.browser_remote`, renders with the Chromium its bundle ships
(:mod:`.chromium_pack`, unpacked to ``/tmp`` at cold start; or ``$TIMER_SERVICE_CHROMIUM``) and
its own SSRF guard (private targets only when the stack allows them), and answers the page or
the error.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AnyHttpUrl, BaseModel, Field, ValidationError

from callbacks.html_monitor.browser import CHROMIUM_ENV, Chromium
from callbacks.html_monitor.browser_remote import answer, failure
from callbacks.html_monitor.rendered import BrowserError
from timer_service.chromium_pack_layout import PACK_DIR
from timer_service.egress import Egress, EgressError
from timer_service.settings import Settings

__all__ = ["RenderRequest", "lambda_handler"]

UNPACK_DIR = Path("/tmp/timer-service-chromium")


class RenderRequest(BaseModel):
    """What a callback asks for (``browser_remote.request_payload``)."""

    url: AnyHttpUrl
    headers: dict[str, str] = Field(default_factory=dict, max_length=64)
    timeout_seconds: Annotated[float, Field(gt=0, le=60, alias="timeoutSeconds")]
    max_bytes: Annotated[int, Field(ge=1, le=10 * 1024 * 1024, alias="maxBytes")]


@cache
def chromium() -> Chromium:
    """``$TIMER_SERVICE_CHROMIUM`` as is, else the bundle's, unpacked (one process: Lambda)."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return Chromium(configured)
    from callbacks.html_monitor.chromium_pack import unpack

    bundle = Path(__file__).resolve().parents[2]  # the task root: callbacks/ sits in it
    unpacked = unpack(bundle / PACK_DIR, UNPACK_DIR)
    os.environ["PLAYWRIGHT_NODEJS_PATH"] = unpacked.node  # the driver's, shipped compressed
    return Chromium(unpacked.chromium, env=unpacked.env, single_process=True)


@cache
def egress() -> Egress:
    return Egress(allow_private=Settings.from_env().allow_private_targets)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        request = RenderRequest.model_validate(event)
    except ValidationError as exc:
        return failure(BrowserError(f"a malformed render request: {exc.errors()[0]['msg']}"))
    try:
        rendered = chromium().render(
            str(request.url),
            egress=egress(),
            headers=request.headers,
            timeout_s=request.timeout_seconds,
            max_bytes=request.max_bytes,
        )
    except EgressError as exc:
        return failure(exc)
    return answer(rendered)
