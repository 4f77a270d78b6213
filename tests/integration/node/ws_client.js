// ws_client.js URL - drives one WebSocket session with Node's `ws` client against an echo
// endpoint and prints what happened as one JSON line (test_websocket_clients.py checks it):
// permessage-deflate offered, a text message, a 1 MiB binary message, a ping, then a close
// with 4001 "bye". Exits 2 if the session does not finish within 10 s.
"use strict";
const WebSocket = require("ws");

const url = process.argv[2];
const result = { events: [] };
const big = Buffer.alloc(1024 * 1024);
for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;

const timer = setTimeout(() => {
  result.events.push("timeout");
  console.log(JSON.stringify(result));
  process.exit(2);
}, 10000);

const ws = new WebSocket(url, { perMessageDeflate: true });
ws.on("open", () => {
  result.extensions = ws.extensions;
  ws.send("hello ü");
});
ws.on("message", (data, isBinary) => {
  if (!isBinary) {
    result.events.push(`text ${data.toString()}`);
    ws.send(big);
  } else {
    result.events.push(`binary ${data.length} ${Buffer.compare(data, big) === 0 ? "same" : "differs"}`);
    ws.ping(Buffer.from("ping-data"));
  }
});
ws.on("pong", (data) => {
  result.events.push(`pong ${data.toString()}`);
  ws.close(4001, "bye");
});
ws.on("error", (err) => result.events.push(`error ${err.message}`));
ws.on("close", (code, reason) => {
  result.events.push(`close ${code} ${reason.toString()}`);
  clearTimeout(timer);
  console.log(JSON.stringify(result));
});
