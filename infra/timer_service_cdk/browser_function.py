"""The construct's ``browser_fetcher``: the function that renders html_monitor's browser checks.

x86_64 (the only Chromium build on npm: :mod:`timer_service_cdk.browser_bundle`), 2 GB, room in
``/tmp`` for Chromium unpacked; it reads no resource of the service, so its environment holds
only whether private targets are allowed and the powertools settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_

from timer_service.settings import Settings
from timer_service_cdk.browser_bundle import browser_code
from timer_service_cdk.functions import Functions

__all__ = ["BROWSER_HANDLER", "browser_function"]

BROWSER_HANDLER = "callbacks.html_monitor.browser_handler.lambda_handler"
# A page's timeoutSeconds (at most 60) and a cold start's unpacking of Chromium (about 10 s).
BROWSER_TIMEOUT = Duration.seconds(90)
BROWSER_MEMORY_MB = 2048
BROWSER_TMP_MB = 1024  # Chromium and Node.js unpacked: about 360 MB


def browser_function(
    functions: Functions,
    environment: Mapping[str, str],
    *,
    code: lambda_.Code | None,
    source: Path,
) -> lambda_.Function:
    """The function that renders pages; ``code`` by default the browser bundle of ``source``."""
    private = Settings.env_name("allow_private_targets")
    return functions.make(
        "BrowserFunction",
        BROWSER_HANDLER,
        {k: v for k, v in environment.items() if k == private or k.startswith("POWERTOOLS")},
        BROWSER_TIMEOUT,
        BROWSER_MEMORY_MB,
        code=code or browser_code(source, functions.runtime),
        architecture=lambda_.Architecture.X86_64,
        ephemeral_storage_mb=BROWSER_TMP_MB,
    )
