// Drives ambigen's typed TypeScript client against the R server, in Node, and prints what it
// saw as one JSON object on stdout; the Go test (node_test.go) holds the expectations.
//
// usage: node --experimental-websocket r-peer.mjs <ws-url> <generated-client.mjs>
// <generated-client.mjs> is ts/src/gen/messages.ts bundled by the Go test so that it imports
// the committed jsclient/ambiorix.mjs: the generated descriptor on the shipped runtime.

import { pathToFileURL } from "node:url";

const [url, genPath] = process.argv.slice(2);
const gen = await import(pathToFileURL(genPath).href);

const waitMs = 8000;

// Every URL a client opens, to show that the generated client announced its fingerprint to R.
const opened = [];
class RecordingWebSocket extends WebSocket {
  constructor(u) {
    opened.push(u);
    super(u);
  }
}

/** A typed client whose messages and errors are kept, so steps can wait for them. */
function peer() {
  const api = gen.connect({ url, reconnect: false, WebSocket: RecordingWebSocket });
  const p = { api, seen: [], errors: [], verdicts: [] };
  api.client.onerror = (err) => p.errors.push(String(err && err.message ? err.message : err));
  api.client.onversion = (v) => p.verdicts.push(v);
  for (const name of ["greeting", "chat", "update", "post"]) {
    api.on[name]((msg) => p.seen.push({ name, msg }));
  }
  return p;
}

/** Resolves with the first kept message named name that pred accepts, or null after ms. */
async function next(p, name, pred = () => true, ms = waitMs) {
  const deadline = Date.now() + ms;
  for (;;) {
    const i = p.seen.findIndex((m) => m.name === name && pred(m.msg));
    if (i >= 0) return p.seen.splice(i, 1)[0].msg;
    if (Date.now() > deadline) return null;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function until(cond, ms = waitMs) {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

const out = {};
const a = peer();
// Sent before the socket is open: the client queues it.
a.api.send.greeting("Hello from Node!");
out.greeting = await next(a, "greeting");

const b = peer();
out.bothOpen = await until(() => a.api.status === "open" && b.api.status === "open");
const line = "hello from Node, via R — ünïcödé & <b>";
a.api.send.chat(line);
out.chatSender = await next(a, "chat", (m) => m === line);
out.chatOther = await next(b, "chat", (m) => m === line);

const twoTags = { user: "ann", text: "two tags", tags: ["r", "ts"], sentAt: "2026-11-27T15:04:05Z", mood: "happy" };
a.api.send.post(twoTags);
out.postTwoTags = await next(b, "post", (m) => m.text === twoTags.text);

// Everything so far must have been accepted by both clients.
out.errorsBefore = [...a.errors, ...b.errors];

// R writes a one-element list as a scalar; the typed client must hand the handler a list.
const oneTag = { user: "ann", text: "one tag", tags: ["r"] };
a.api.send.post(oneTag);
// A chat sent after it is a marker: once it is back, R has answered the post too (one thread).
a.api.send.chat("marker");
await next(b, "chat", (m) => m === "marker");
out.postOneTag = await next(b, "post", (m) => m.text === oneTag.text, 200);
out.postOneTagIsArray = Array.isArray(out.postOneTag?.tags);
out.errorsOther = b.errors;

// R ignores the announcement: no verdict ever came, and the clients stayed unknown.
out.opened = opened;
out.fingerprint = gen.fingerprint;
out.versions = [a.api.version.status, b.api.version.status];
out.verdicts = [...a.verdicts, ...b.verdicts];

a.api.close();
b.api.close();
process.stdout.write(JSON.stringify(out) + "\n");
