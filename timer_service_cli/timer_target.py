"""Which API ``timer-service timers`` calls, and how: ``--url``, ``--stack`` (its ``ApiUrl``,
signed unless a key is given), else the running local stack of ``--state-dir``."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from timer_service_cli.timer_body import UsageError

if TYPE_CHECKING:
    from timer_service.client import TimerClient

__all__ = ["API_KEY_ENV", "local_url", "timers_client"]

API_KEY_ENV = "TIMER_SERVICE_API_KEY"  # the key, when --api-key is not given


def timers_client(args: argparse.Namespace) -> TimerClient:
    """The client of ``--url``, of ``--stack``, else of the local stack in ``--state-dir``."""
    from timer_service.client import TimerClient

    if args.url is not None and args.stack is not None:
        raise UsageError("give --url or --stack, not both")
    # From the environment too: an argument shows in `ps` to every user of the machine.
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if args.url is not None:
        try:
            return TimerClient(args.url, api_key=api_key, timeout=args.timeout)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.stack is not None:
        from timer_service.settings import Settings

        return TimerClient.for_stack(
            args.stack,
            api_key=api_key,
            endpoint_url=Settings.from_env().endpoint_url,
            timeout=args.timeout,
        )
    return TimerClient(local_url(Path(args.state_dir)), api_key=api_key, timeout=args.timeout)


def local_url(state_dir: Path) -> str:
    """The local stack's API URL from its ``endpoint.json``: only a loopback one, since the
    default ``--state-dir`` is in the working directory, and a cloned repo could plant a file
    there that sends your key or signature elsewhere."""
    from timer_service.client import ClientConfigError
    from timer_service.client.base import is_loopback_host
    from timer_service_local.endpoint import ENDPOINT_FILE

    endpoint = state_dir / ENDPOINT_FILE
    try:
        text = endpoint.read_text()
    except OSError:
        raise ClientConfigError(
            f"no local stack in {state_dir} (no {ENDPOINT_FILE} with its URL: is"
            " `timer-service dev` running there?); give --url URL or --stack NAME"
        ) from None
    try:
        found = json.loads(text)
    except ValueError:
        found = None
    url = found.get("api_url") if isinstance(found, dict) else None
    if not isinstance(url, str) or not url:
        raise ClientConfigError(f"{endpoint}: not a local stack's endpoint file (no api_url)")
    import httpx

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ClientConfigError(f"{endpoint}: api_url {url!r} is not an http(s) URL")
    if not is_loopback_host(parsed.host):
        raise ClientConfigError(
            f"{endpoint}: api_url {url!r} is not a loopback address (a local stack is on"
            " 127.0.0.1, ::1 or localhost): not calling it; give --url URL to mean it"
        )
    return url
