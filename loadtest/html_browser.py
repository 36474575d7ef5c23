"""html_monitor's browser fetcher: consecutive renders of a local JavaScript page, speed and memory.

One Chromium (as a warm callback or the local stack keeps it) renders a page served on
127.0.0.1 whose text its script writes after fetching a JSON value that changes at every check,
``--checks`` times in a row, every request through egress (private targets allowed: the page is
local). After each check it samples memory: the RSS of this process plus that of every process
it started (Playwright's driver and Chromium's processes), and the same as PSS (shared pages
counted once, from ``/proc/PID/smaps_rollup``). The goal: memory at the last check within 10 %
of that at the 20th.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["browser_pids", "configure", "descendants", "memory_mb", "report", "run"]

GOAL_GROWTH = 0.10
PAGE = b"""<!doctype html><html><head><title>shop</title></head><body>
<h1>Offer</h1><ul id="items"></ul><p id="price">loading</p><script>
fetch('/price.json').then(r => r.json()).then(d => {
  document.getElementById('price').textContent = 'price: ' + d.price + ' EUR';
  const list = document.getElementById('items');
  for (let i = 0; i < 50; i++) {
    const li = document.createElement('li');
    li.textContent = 'item ' + i + ' of check ' + d.price;
    list.appendChild(li);
  }
});
</script></body></html>"""


def descendants(root: int) -> list[int]:
    """The processes under ``root`` (children, theirs, ...), from ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [root]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def browser_pids(root: int) -> list[int]:
    """Chromium's processes under ``root``: every descendant but Playwright's Node.js driver."""
    pids = []
    for pid in descendants(root):
        try:
            program = Path(f"/proc/{pid}/cmdline").read_text().split("\0", 1)[0]
        except OSError:
            continue
        if Path(program).name != "node":
            pids.append(pid)
    return pids


def memory_mb(root: int) -> tuple[float, float]:
    """``(RSS, PSS)`` in MB of ``root`` and all its descendants."""
    rss = pss = 0
    for pid in [root, *descendants(root)]:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
        except OSError:
            continue  # it ended in between
    return rss / 1024, pss / 1024


class _Shop:
    """The page and its changing JSON value on 127.0.0.1."""

    def __init__(self) -> None:
        self.price = 0
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/price.json":
                    body, kind = json.dumps({"price": shop.price}).encode(), "application/json"
                else:
                    body, kind = PAGE, "text/html; charset=utf-8"
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def measure(checks: int, executable: str, progress: Any = None) -> dict[str, Any]:
    from callbacks.html_monitor.browser import Chromium
    from timer_service.egress import Egress

    shop = _Shop()
    chromium = Chromium(executable)
    egress = Egress(allow_private=True)
    samples: list[tuple[float, float]] = []
    seconds: list[float] = []
    wrong = 0
    try:
        started = time.monotonic()
        for check in range(1, checks + 1):
            shop.price = check
            began = time.monotonic()
            rendered = chromium.render(
                shop.url, egress=egress, headers={}, timeout_s=15, max_bytes=2 << 20
            )
            seconds.append(time.monotonic() - began)
            wrong += f"price: {check} EUR".encode() not in rendered.body
            samples.append(memory_mb(os.getpid()))
            if progress is not None:
                progress(check, checks, "rendering")
        elapsed = time.monotonic() - started
        version = chromium.version()
    finally:
        chromium.close()
        shop.close()
    at20 = samples[min(19, len(samples) - 1)]
    last = samples[-1]
    return {
        "checks": checks,
        "chromium": executable,
        "chromium_version": version,
        "pages_per_minute": round(checks / elapsed * 60, 1),
        "seconds_per_page_median": round(sorted(seconds)[len(seconds) // 2], 3),
        "seconds_first_page": round(seconds[0], 3),
        "renders_without_the_new_text": wrong,
        "peak_rss_mb": round(max(s[0] for s in samples), 1),
        "peak_pss_mb": round(max(s[1] for s in samples), 1),
        "rss_mb_at_20": round(at20[0], 1),
        "rss_mb_at_last": round(last[0], 1),
        "pss_mb_at_20": round(at20[1], 1),
        "pss_mb_at_last": round(last[1], 1),
        "rss_growth_20_to_last": round(last[0] / at20[0] - 1, 4),
        "pss_growth_20_to_last": round(last[1] / at20[1] - 1, 4),
        "goal_growth": GOAL_GROWTH,
    }


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checks", type=int, default=200, help="consecutive checks")
    parser.add_argument(
        "--chromium",
        default=os.environ.get("TIMER_SERVICE_CHROMIUM")
        or shutil.which("chromium")
        or "/usr/bin/chromium",
        help="the Chromium to launch",
    )


def run(args: argparse.Namespace, progress: Any = None) -> dict[str, Any]:
    return measure(args.checks, args.chromium, progress)


def report(figures: dict[str, Any], console: Any) -> None:
    from rich.table import Table

    table = Table(f"{figures['checks']} checks, Chromium {figures['chromium_version']}", "")
    table.add_row("pages per minute", str(figures["pages_per_minute"]))
    table.add_row("median seconds per page", str(figures["seconds_per_page_median"]))
    table.add_row("renders missing the new text", str(figures["renders_without_the_new_text"]))
    table.add_row(
        "peak memory (RSS / PSS)", f"{figures['peak_rss_mb']} / {figures['peak_pss_mb']} MB"
    )
    for kind in ("rss", "pss"):
        growth = figures[f"{kind}_growth_20_to_last"]
        verdict = "ok" if growth <= figures["goal_growth"] else "over the goal"
        table.add_row(
            f"{kind.upper()} at check 20 -> last",
            f"{figures[f'{kind}_mb_at_20']} -> {figures[f'{kind}_mb_at_last']} MB"
            f" ({growth:+.1%}, {verdict})",
        )
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    configure(parser)
    print(json.dumps(run(parser.parse_args(argv)), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
