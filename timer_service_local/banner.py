"""What the local stack prints: its banner at start, then each request, firing and output."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from timer_service import __version__

if TYPE_CHECKING:
    from rich.console import Console

    from timer_service.dispatch import Firing
    from timer_service_local.config import Recovery, StackConfig
    from timer_service_local.endpoint import Resources

__all__ = ["StackPrinter"]


class StackPrinter:
    """Prints on ``console``; ``quiet`` keeps firings out (as the console keeps the rest)."""

    def __init__(self, console: Console, *, quiet: bool) -> None:
        self.console = console
        self._quiet = quiet

    def banner(
        self, config: StackConfig, resources: Resources, recovery: Recovery, url: str
    ) -> None:
        """Where everything is, what was restored, and a first request to try."""
        from timer_service.job_types import JobTypeRegistry

        key_header = f" -H 'X-Api-Key: {config.api_keys[0]}'" if config.api_keys else ""
        restored = recovery.restored
        state = f"{config.state_dir} (journaled; every answered change survives a crash)"
        if restored.get("items") or restored.get("messages"):
            state += (
                f"; restored {restored.get('items', 0)} items,"
                f" {restored.get('messages', 0)} queued firings"
            )
        if recovery.held_firings:
            state += f", {recovery.held_firings} held firings"
        rows = [
            ("API", url),
            ("Console", f"{url}/console/"),
            ("Swagger UI", f"{url}/docs"),
            ("OpenAPI", f"{url}/openapi.json"),
            ("AWS endpoint", resources.endpoint_url or "from the environment"),
            ("Table", resources.table),
            ("Dispatch queue", resources.dispatch_queue_url),
            ("Dead letters", resources.dlq_url),
            ("Output queue", resources.output_queue_url),
            ("Job types", ", ".join(JobTypeRegistry.from_entry_points().names)),
            ("State", state if config.embedded else "in the AWS account of the environment"),
        ]
        console = self.console
        console.print(f"[bold]timer-service {__version__}[/] local stack, {config.shards} shards")
        for name, value in rows:
            console.print(f"  {name:<15} {value}", soft_wrap=True)
        console.print("Try:")
        console.print(
            f"  curl -X PUT {url}/periodic/hello{key_header} -H 'Content-Type: application/json'"
            """ -d '{"schedule": "rate(1 minute)", "timerCallbackData": {"hello": "world"}}'""",
            soft_wrap=True,
        )
        console.print(f"  curl {url}/periodic{key_header}", soft_wrap=True)
        console.print("Ctrl-C stops.")
        sys.stdout.flush()

    def request(self, method: str, path: str, status: int, elapsed_ms: float) -> None:
        style = "green" if status < 400 else "yellow" if status < 500 else "red"
        self.console.print(f"[{style}]{status}[/] {method} {path} [dim]{elapsed_ms:.1f} ms[/]")

    def firing(self, firing: Firing, result: Any, error: Exception | None) -> None:
        """A callback's outcome (a listener of ``callbacks.handler``)."""
        if self._quiet:
            return
        when = datetime.fromtimestamp(firing.scheduled_s, tz=UTC).strftime("%H:%M:%S")
        console = self.console
        if error is not None:
            console.print(f"[red]failed[/] {firing.timer_id} @ {when}: {error}", soft_wrap=True)
        elif result.outcome == "delivered":
            ran = result.result
            said = "" if ran is None else f" {ran.outcome}"
            if ran is not None and ran.summary:
                said += f": {ran.summary}"
            console.print(
                f"[cyan]fired[/] {firing.timer_id} @ {when} [dim]late {result.lateness_s:+.3f} s[/]"
                + said,
                soft_wrap=True,
            )
        else:
            console.print(f"[dim]skipped {firing.timer_id} @ {when}: {result.outcome}[/]")

    def output(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """The output queue's messages (a Lambda handler for its worker)."""
        for record in event["Records"]:
            self.console.print(f"[magenta]output[/] {record['body']}", soft_wrap=True)
        return {"batchItemFailures": []}
