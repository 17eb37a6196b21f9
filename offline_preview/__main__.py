"""`python -m offline_preview` (see `offline_preview.cli`)."""

import asyncio
import gc
import sys

from .cli import main


def _close_idle_event_loops() -> None:
    # The Pulumi runtime leaves its event loops open; closed here, before the
    # interpreter tears their sockets down, they exit without noisy __del__ errors.
    for obj in gc.get_objects():
        if (
            isinstance(obj, asyncio.AbstractEventLoop)
            and not obj.is_closed()
            and not obj.is_running()
        ):
            obj.close()


if __name__ == "__main__":
    code = main()
    _close_idle_event_loops()
    sys.exit(code)
