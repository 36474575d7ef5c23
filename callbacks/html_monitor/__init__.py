"""``html_monitor``: watch a web page's text and notify on change (see :mod:`.job`).

``extract_text(html, *, include=None, exclude=None, ignore_text=None) -> str`` is the pure
text extraction the monitor compares; benchmarks and plugins may call it directly.
"""

from callbacks.html_monitor.config import HtmlMonitorJob
from callbacks.html_monitor.extract import extract_text
from callbacks.html_monitor.job import check, job_type

__all__ = ["HtmlMonitorJob", "check", "extract_text", "job_type"]
