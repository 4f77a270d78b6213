#!/usr/bin/python3
"""ws_echo_websockets.py - an echo server on the websockets library alone (no ASGI), on uvloop.

A reference point for `bench/run.sh websocket --only ...,websockets`: what the library
uvicorn's WebSocket support is built on costs by itself, and a second, independent server
to check the load client against. Every message is sent back as it came (text or bytes).
The library's defaults otherwise: permessage-deflate accepted when offered (window bits
12, memLevel 5), 1 MiB message limit, pings every 20 s.

    bench/ws_echo_websockets.py PORT       (listens on 127.0.0.1:PORT until TERM or INT)
"""
import asyncio
import signal
import sys

import uvloop
import websockets


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def main(port):
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", port):
        await stop


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: ws_echo_websockets.py PORT")
    uvloop.install()
    asyncio.run(main(int(sys.argv[1])))
