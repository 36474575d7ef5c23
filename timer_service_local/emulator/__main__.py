"""``python -m timer_service_local.emulator``: the emulator's process (see :mod:`.server`)."""

from __future__ import annotations

from timer_service_local.emulator.server import main

if __name__ == "__main__":
    raise SystemExit(main())
