"""A bare listener that accepts and closes: stands for a port open beyond the plan (RDP)."""

from __future__ import annotations

import asyncio
import contextlib

from pathsec.lab.common import Unit


async def start(unit: Unit) -> asyncio.Server:
    """Accept connections, read what comes for a moment, then close."""

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        unit.track(writer)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(reader.read(4096), 5.0)
        unit.untrack(writer)
        writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 2.0)

    return await asyncio.start_server(on_client, unit.host, unit.port)
