import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { CallError } from "../src/client.js";
import { PayloadError, readField, readInt, readObject, readString } from "../src/decode.js";
import { createTypedClient, type Descriptor, type TypedClient } from "../src/typed.js";
import { FakeWebSocket, waitFor } from "./fake.js";

// What ambigen would generate for a small schema, written by hand.
type Update = { count: number };
type Messages = {
  clientToServer: { chat: string; greeting: string };
  serverToClient: { chat: string; update: Update };
  clientCalls: { add: { request: { a: number; b: number }; reply: number } };
  serverCalls: { confirm: { request: string; reply: boolean } };
};

const decodeUpdate = (v: unknown, path = ""): Update => ({ count: readField(readObject(v, path), "count", path, readInt) });
const descriptor: Descriptor = {
  clientToServer: ["chat", "greeting"],
  serverToClient: ["chat", "update"],
  clientCalls: ["add"],
  serverCalls: ["confirm"],
  decoders: {
    message: { chat: readString, update: decodeUpdate },
    reply: { add: readInt },
    request: { confirm: readString },
  },
};

afterEach(() => FakeWebSocket.reset());

test("the typed client routes each name through the core with its decoders", async () => {
  const api = createTypedClient<Messages>(descriptor, { url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false });
  const errors: Error[] = [];
  api.client.onerror = (e) => errors.push(e);
  const got: unknown[] = [];
  api.on.chat((msg) => got.push(msg.toUpperCase()));
  api.on.update((msg) => got.push(msg.count + 1));
  api.handle.confirm((req) => req === "yes");
  assert.equal(api.status, "connecting");
  api.send.chat("hi");

  const ws = FakeWebSocket.last();
  ws.open();
  assert.equal(api.status, "open");
  assert.equal(ws.sent[0], '{"name":"chat","message":"hi","isAmbiorix":true}');

  ws.receiveJSON({ name: "chat", message: "hello", isAmbiorix: true });
  ws.receiveJSON({ name: "update", message: { count: 41 }, isAmbiorix: true });
  // R writes a big integer as a string; the handler gets the number its type promises.
  ws.receiveJSON({ name: "update", message: { count: "41" }, isAmbiorix: true });
  ws.receiveJSON({ name: "update", message: { count: "forty-one" }, isAmbiorix: true });
  assert.deepEqual(got, ["HELLO", 42, 42]);
  assert.deepEqual(
    errors.map((e) => e.message),
    ['message "update": invalid payload: count: expected integer, got string "forty-one"'],
  );

  const sum = api.call.add({ a: 1, b: 2 }, { timeout: 1000 });
  const req = ws.sentJSON()[1]!;
  assert.deepEqual(req.message, { a: 1, b: 2 });
  ws.receiveJSON({ name: "add", message: 3, isAmbiorix: true, replyTo: req.id });
  const n: number = await sum;
  assert.equal(n, 3);

  const bad = api.call.add({ a: 1, b: 2 });
  ws.receiveJSON({ name: "add", message: "three", isAmbiorix: true, replyTo: ws.sentJSON()[2]!.id });
  await assert.rejects(bad, (e: unknown) => e instanceof CallError && e.code === "invalid_reply");

  ws.receiveJSON({ name: "confirm", message: "yes", isAmbiorix: true, id: "s1" });
  ws.receiveJSON({ name: "confirm", message: 1, isAmbiorix: true, id: "s2" });
  await waitFor(() => ws.sent.length === 5, 1000, "two replies");
  assert.equal(ws.sent[3], '{"name":"confirm","message":true,"isAmbiorix":true,"replyTo":"s1"}');
  assert.equal((ws.sentJSON()[4]!.error as { code: string }).code, "invalid_argument");

  // Only the schema's names exist at run time too.
  assert.deepEqual(Object.keys(api.send), ["chat", "greeting"]);
  assert.deepEqual(Object.keys(api.on), ["chat", "update"]);
  assert.equal((api.send as Record<string, unknown>).update, undefined);

  api.close();
  assert.equal(api.status, "closed");
});

test("decoders from options add to the descriptor's, name by name", () => {
  const api = createTypedClient<Messages>(descriptor, {
    url: "ws://fake.test/",
    WebSocket: FakeWebSocket,
    reconnect: false,
    decoders: {
      message: {
        chat: (v) => {
          if (readString(v) === "bad") throw new PayloadError("", "a bad word");
          return v;
        },
      },
    },
  });
  const errors: Error[] = [];
  api.client.onerror = (e) => errors.push(e);
  const got: unknown[] = [];
  api.on.chat((m) => got.push(m));
  api.on.update((m) => got.push(m));
  const ws = FakeWebSocket.last();
  ws.open();
  ws.receiveJSON({ name: "chat", message: "bad", isAmbiorix: true });
  ws.receiveJSON({ name: "chat", message: "good", isAmbiorix: true });
  ws.receiveJSON({ name: "update", message: {}, isAmbiorix: true });
  assert.deepEqual(got, ["good"]);
  assert.deepEqual(
    errors.map((e) => e.message),
    ['message "chat": invalid payload: a bad word', 'message "update": invalid payload: count: required field is missing'],
  );
  api.close();
});

// Never called: it exists so that tsc proves wrong payloads and names do not compile.
export function typeChecks(api: TypedClient<Messages>): void {
  api.send.chat("fine");
  // @ts-expect-error chat carries a string
  api.send.chat(42);
  // @ts-expect-error update goes from the server to the client
  api.send.update({ count: 1 });
  // @ts-expect-error a is a number
  void api.call.add({ a: "1", b: 2 });
  // @ts-expect-error b is missing
  void api.call.add({ a: 1 });
  // @ts-expect-error the reply is a number, not a string
  const s: Promise<string> = api.call.add({ a: 1, b: 2 });
  void s;
  // @ts-expect-error msg is an Update, which has no text
  api.on.update((msg) => msg.text);
  // @ts-expect-error confirm replies with a boolean
  api.handle.confirm(() => "yes");
  api.handle.confirm(async (req) => req.length > 0);
  // @ts-expect-error status is read-only
  api.status = "open";
}
