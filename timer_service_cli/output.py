"""Tables for people and for scripts: rich's on a terminal (when the ``local`` extra installed
rich), else aligned columns; tab-separated rows, no header, when the output is piped."""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["print_table"]


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` under ``headers``."""
    if not sys.stdout.isatty():  # whole values, one row a line, for grep and scripts
        for row in rows:
            print("\t".join(row))
        return
    try:
        from rich.console import Console
        from rich.table import Table
    except ImportError:
        widths = [
            max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)
        ]
        for line in (headers, *rows):
            cells = (str(cell).ljust(width) for cell, width in zip(line, widths, strict=True))
            print("  ".join(cells).rstrip())
        return
    table = Table(*headers)
    for row in rows:
        table.add_row(*row)
    Console().print(table)
