// The Ambiorix class keeps one connection per page (module state), so this
// file, run in its own process by node --test, configures it once.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Ambiorix } from "../src/ambiorix.js";
import { Client } from "../src/client.js";
import { FakeWebSocket } from "./fake.js";

test("a page written for ambiorix.js works unchanged, with sends before open queued", () => {
  const g = globalThis as { location?: unknown };
  g.location = { protocol: "http:", host: "127.0.0.1:3000" };
  const client = Ambiorix.configure({ WebSocket: FakeWebSocket });
  assert.ok(client instanceof Client);
  assert.throws(() => Ambiorix.configure({}), /before the connection is first used/);

  // The API shape of the original: static send, constructor, receive, start.
  assert.equal(typeof Ambiorix.send, "function");
  assert.equal(typeof Ambiorix.prototype.receive, "function");
  assert.equal(typeof Ambiorix.prototype.start, "function");

  // The original throws here (socket not open yet); ours queues.
  assert.doesNotThrow(() => Ambiorix.send("greeting", "Hello from the browser!"));
  const ws = FakeWebSocket.last();
  // As ambiorix.js: no fingerprint is announced, so the URL is the page's host alone.
  assert.equal(ws.url, "ws://127.0.0.1:3000/");

  const got: string[] = [];
  const wss = new Ambiorix();
  wss.receive("chat", (m) => got.push(`first ${String(m)}`));
  wss.receive("chat", (m) => got.push(`chat ${String(m)}`)); // the last registration wins
  wss.receive("greeting", (m) => got.push(`greeting ${String(m)}`));

  // The socket opens and a message arrives before start(): nothing is lost.
  ws.open();
  assert.deepEqual(ws.sent, ['{"name":"greeting","message":"Hello from the browser!","isAmbiorix":true}']);
  ws.receiveJSON({ name: "greeting", message: "Hello from the server!", isAmbiorix: true });
  wss.start();
  ws.receiveJSON({ name: "chat", message: "hi", isAmbiorix: true });
  ws.receiveJSON({ name: "chat", message: "ignored", isAmbiorix: false });
  // ambigen's reserved names never reach a page's receive() handlers.
  wss.receive("ambigen:version", (m) => got.push(`reserved ${JSON.stringify(m)}`));
  ws.receiveJSON({ name: "ambigen:version", message: { status: "compatible" }, isAmbiorix: true });
  ws.receive("garbage");

  // A second instance has its own handlers on the same socket.
  const other = new Ambiorix();
  const otherGot: unknown[] = [];
  other.receive("chat", (m) => otherGot.push(m));
  other.start();
  ws.receiveJSON({ name: "chat", message: "both", isAmbiorix: true });
  Ambiorix.send("chat", "typed");

  assert.deepEqual(got, ["greeting Hello from the server!", "chat hi", "chat both"]);
  assert.deepEqual(otherGot, ["both"]);
  assert.equal(ws.sent[1], '{"name":"chat","message":"typed","isAmbiorix":true}');
  assert.equal(FakeWebSocket.instances.length, 1, "one socket for the page");
  assert.equal(Ambiorix.client, client);
  assert.equal(client.status, "open");

  // Closed on purpose, it stays closed until start().
  client.close();
  Ambiorix.send("chat", "dropped");
  assert.equal(FakeWebSocket.instances.length, 1);
  wss.start();
  assert.equal(FakeWebSocket.instances.length, 2);
  client.close();
  delete g.location;
});
