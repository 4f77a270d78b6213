"""ws_reference_echo.py PORT [--max-size N] [--deflate on|off] - a plain `websockets` server
(no ASGI) that echoes every message with its type on every path: the reference the raw
protocol tests are checked against with ASGID_WS_REFERENCE=websockets (see wsharness.py).
"""
import argparse
import asyncio

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def echo(ws, path=None):
    async for message in ws:
        await ws.send(message)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--max-size", type=int, default=16 * 1024 * 1024)
    parser.add_argument("--deflate", default="on")
    args = parser.parse_args()
    extensions = [ServerPerMessageDeflateFactory()] if args.deflate in ("on", "true", "1") else []
    async with websockets.serve(echo, "127.0.0.1", args.port, max_size=args.max_size,
                                extensions=extensions, compression=None):
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
