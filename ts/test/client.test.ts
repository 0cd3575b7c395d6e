import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { CallError, Client, QueueFullError, ValidationError, backoffDelay, defaultURL, type ClientOptions } from "../src/client.js";
import { readField, readInt, readList, readObject, readString } from "../src/decode.js";
import { FakeWebSocket, fakeFetch, tick, waitFor } from "./fake.js";

const URL = "ws://fake.test/";

// Every client a test makes is closed after it, so no connect or retry timer outlives the test.
const made: Client[] = [];

function newClient(opts: ClientOptions = {}): { client: Client; errors: Error[] } {
  const client = new Client({ url: URL, WebSocket: FakeWebSocket, reconnect: false, ...opts });
  made.push(client);
  const errors: Error[] = [];
  client.onerror = (err) => errors.push(err);
  return { client, errors };
}

afterEach(() => {
  for (const c of made.splice(0)) c.close();
  FakeWebSocket.reset();
  fakeFetch.answer = null;
  fakeFetch.calls.length = 0;
});

// openClient is newClient started, with its fake socket open.
function openClient(opts: ClientOptions = {}) {
  const c = newClient(opts);
  c.client.start();
  const ws = FakeWebSocket.last();
  ws.open();
  return { ...c, ws };
}

describe("queueing", () => {
  test("sends before the socket opens go out in order once it opens", () => {
    const { client, errors } = newClient();
    assert.equal(client.status, "connecting");
    assert.equal(client.send("a", 1), true);
    client.start();
    assert.equal(client.send("b", { x: [1, 2] }), true);
    const ws = FakeWebSocket.last();
    assert.deepEqual(ws.sent, []);
    ws.open();
    assert.equal(client.status, "open");
    assert.deepEqual(ws.sent, [
      '{"name":"a","message":1,"isAmbiorix":true}',
      '{"name":"b","message":{"x":[1,2]},"isAmbiorix":true}',
    ]);
    client.send("c", "now");
    assert.equal(ws.sent[2], '{"name":"c","message":"now","isAmbiorix":true}');
    assert.deepEqual(errors, []);
  });

  test("a full queue refuses the new message, keeps the earlier ones, and says so", () => {
    const { client, errors } = newClient({ queueLimit: 2 });
    client.start();
    assert.equal(client.send("m", 1), true);
    assert.equal(client.send("m", 2), true);
    assert.equal(client.send("m", 3), false);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof QueueFullError);
    assert.equal((errors[0] as QueueFullError).messageName, "m");
    const ws = FakeWebSocket.last();
    ws.open();
    assert.deepEqual(ws.sentJSON().map((e) => e.message), [1, 2]);
  });

  test("a call refused by a full queue rejects with queue_full", async () => {
    const { client } = newClient({ queueLimit: 1 });
    client.start();
    client.send("fill", null);
    await assert.rejects(client.call("add", { a: 1 }), (err: unknown) => err instanceof CallError && err.code === "queue_full");
  });
});

describe("incoming frames", () => {
  test("frames that are not flagged Ambiorix envelopes are ignored without throwing", () => {
    const { client, errors } = newClient();
    const got: unknown[] = [];
    client.on("x", (m) => got.push(m));
    client.onAny((name, m) => got.push([name, m]));
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    const junk: unknown[] = [
      "not json",
      "",
      "null",
      "[]",
      '[{"name":"x","message":1,"isAmbiorix":true}]',
      "42",
      '"x"',
      "{}",
      '{"name":"x","message":1}',
      '{"name":"x","message":1,"isAmbiorix":false}',
      '{"name":"x","message":1,"isAmbiorix":1}',
      '{"name":"x","message":1,"isAmbiorix":"true"}',
      '{"name":"x","message":1,"isAmbiorix":null}',
      '{"message":1,"isAmbiorix":true}',
      '{"name":null,"message":1,"isAmbiorix":true}',
      '{"name":{"a":1},"message":1,"isAmbiorix":true}',
      new ArrayBuffer(4),
    ];
    for (const frame of junk) assert.doesNotThrow(() => ws.receive(frame));
    assert.deepEqual(got, []);
    assert.deepEqual(errors, []);
    ws.receive('{"name":"x","message":1,"isAmbiorix":true}');
    ws.receive('{"name":"x","isAmbiorix":true}');
    assert.deepEqual(got, [1, ["x", 1], null, ["x", null]]);
  });

  test("handlers registered before start see messages that arrive after open", () => {
    const { client } = newClient();
    const got: unknown[] = [];
    client.on("greeting", (m) => got.push(m));
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receiveJSON({ name: "greeting", message: "Hello from the server!", isAmbiorix: true });
    assert.deepEqual(got, ["Hello from the server!"]);
  });

  test("several listeners run, a throwing one is reported, and on() returns a remover", () => {
    const { client, errors } = newClient();
    const got: string[] = [];
    const boom = new Error("boom");
    client.on("n", () => {
      throw boom;
    });
    const off = client.on("n", (m) => got.push(`a:${String(m)}`));
    client.on("n", (m) => got.push(`b:${String(m)}`));
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receiveJSON({ name: "n", message: 1, isAmbiorix: true });
    off();
    ws.receiveJSON({ name: "n", message: 2, isAmbiorix: true });
    assert.deepEqual(got, ["a:1", "b:1", "b:2"]);
    assert.deepEqual(errors, [boom, boom]);
  });

  test("listeners get the decoded payload; one the decoder refuses is reported and not delivered", () => {
    const { client, errors } = newClient({ decoders: { message: { count: readInt } } });
    const got: unknown[] = [];
    const any: unknown[] = [];
    client.on("count", (m) => got.push(m));
    client.onAny((name, m) => any.push([name, m]));
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receiveJSON({ name: "count", message: "seven", isAmbiorix: true });
    ws.receiveJSON({ name: "count", message: 7, isAmbiorix: true });
    ws.receiveJSON({ name: "count", message: "3000000000", isAmbiorix: true });
    assert.deepEqual(got, [7, 3000000000]);
    assert.deepEqual(any, [
      ["count", 7],
      ["count", 3000000000],
    ]);
    assert.equal(errors.length, 1);
    const err = errors[0] as ValidationError;
    assert.ok(err instanceof ValidationError);
    assert.equal(err.messageName, "count");
    assert.equal(err.kind, "message");
    assert.equal(err.path, "");
    assert.equal(err.problem, 'expected integer, got string "seven"');
    client.setDecoder("count", undefined);
    ws.receiveJSON({ name: "count", message: "8", isAmbiorix: true });
    assert.deepEqual(got, [7, 3000000000, "8"]);
  });

  test("a decoder's error keeps the path of the problem", () => {
    const tags = (v: unknown, path = "") => ({ tags: readField(readObject(v, path), "tags", path, readList(readString)) });
    const { client, errors } = newClient({ decoders: { message: { post: tags } } });
    const got: unknown[] = [];
    client.on("post", (m) => got.push(m));
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receiveJSON({ name: "post", message: { tags: ["a", "b", 3] }, isAmbiorix: true });
    ws.receiveJSON({ name: "post", message: { tags: "r" }, isAmbiorix: true });
    assert.deepEqual(got, [{ tags: ["r"] }]);
    const err = errors[0] as ValidationError;
    assert.equal(err.path, "tags[2]");
    assert.equal(err.problem, "tags[2]: expected string, got number");
    assert.equal(err.message, 'message "post": invalid payload: tags[2]: expected string, got number');
  });
});

describe("calls", () => {
  test("a request carries a fresh id and the reply resolves it", async () => {
    const { client, ws } = openClient();
    const p1 = client.call("add", { a: 1, b: 2 });
    const p2 = client.call("add", { a: 3, b: 4 });
    const [r1, r2] = ws.sentJSON();
    assert.equal(ws.sent[0], `{"name":"add","message":{"a":1,"b":2},"isAmbiorix":true,"id":"${String(r1!.id)}"}`);
    assert.equal(typeof r2!.id, "string");
    assert.notEqual(r1!.id, r2!.id);
    // Replies may come in any order; ids route them.
    ws.receiveJSON({ name: "add", message: 7, isAmbiorix: true, replyTo: r2!.id });
    ws.receiveJSON({ name: "add", message: 3, isAmbiorix: true, replyTo: r1!.id });
    assert.deepEqual(await Promise.all([p1, p2]), [3, 7]);
  });

  test("an error reply rejects with the peer's code and text", async () => {
    const { client, ws } = openClient();
    const p = client.call("add", { a: "x" });
    const id = ws.sentJSON()[0]!.id;
    ws.receiveJSON({ name: "add", message: null, isAmbiorix: true, replyTo: id, error: { code: "invalid_argument", message: "a: want int" } });
    await assert.rejects(p, (err: unknown) => {
      assert.ok(err instanceof CallError);
      assert.equal(err.code, "invalid_argument");
      assert.equal(err.message, "a: want int");
      return true;
    });
  });

  test("a call times out, and its late reply is dropped", async () => {
    const { client, ws, errors } = openClient();
    const got: unknown[] = [];
    client.onAny((n, m) => got.push([n, m]));
    const started = Date.now();
    await assert.rejects(client.call("slow", null, { timeout: 20 }), (err: unknown) => err instanceof CallError && err.code === "timeout");
    assert.ok(Date.now() - started >= 15);
    ws.receiveJSON({ name: "slow", message: 1, isAmbiorix: true, replyTo: ws.sentJSON()[0]!.id });
    assert.deepEqual(got, []);
    assert.deepEqual(errors, []);
  });

  test("the client's default timeout applies when the call sets none", async () => {
    const { client } = openClient({ callTimeout: 10 });
    await assert.rejects(client.call("slow"), (err: unknown) => err instanceof CallError && err.code === "timeout");
  });

  test("aborting the signal cancels the call", async () => {
    const { client } = openClient();
    const ac = new AbortController();
    const p = client.call("slow", null, { signal: ac.signal });
    ac.abort();
    await assert.rejects(p, (err: unknown) => err instanceof CallError && err.code === "canceled");
    const pre = new AbortController();
    pre.abort();
    await assert.rejects(client.call("slow", null, { signal: pre.signal }), (err: unknown) => err instanceof CallError && err.code === "canceled");
  });

  test("every pending call rejects with closed when the connection drops", async () => {
    const { client, ws } = openClient();
    const calls = [client.call("a"), client.call("b", 1, { timeout: Infinity })];
    ws.drop();
    for (const p of calls) {
      await assert.rejects(p, (err: unknown) => err instanceof CallError && err.code === "closed");
    }
    assert.equal(client.status, "closed");
  });

  test("a call made before open is queued and answered after open; one that times out in the queue is never sent", async () => {
    const { client } = newClient();
    client.start();
    const ws = FakeWebSocket.last();
    const expired = client.call("gone", null, { timeout: 5 });
    const p = client.call("add", { a: 1, b: 1 });
    await assert.rejects(expired, (err: unknown) => err instanceof CallError && err.code === "timeout");
    ws.open();
    const sent = ws.sentJSON();
    assert.deepEqual(sent.map((e) => e.name), ["add"]);
    ws.receiveJSON({ name: "add", message: 2, isAmbiorix: true, replyTo: sent[0]!.id });
    assert.equal(await p, 2);
  });

  test("a call resolves with the decoded reply; one its decoder refuses rejects with invalid_reply", async () => {
    const { client, ws } = openClient();
    client.setDecoder("add", readInt, "reply");
    const ok = client.call("add", { a: 1, b: 2 });
    ws.receiveJSON({ name: "add", message: "3", isAmbiorix: true, replyTo: ws.sentJSON()[0]!.id });
    assert.equal(await ok, 3);
    const bad = client.call("add", { a: 1, b: 2 });
    ws.receiveJSON({ name: "add", message: 3.5, isAmbiorix: true, replyTo: ws.sentJSON()[1]!.id });
    await assert.rejects(
      bad,
      (err: unknown) => err instanceof CallError && err.code === "invalid_reply" && err.message === 'reply "add": invalid payload: expected integer, got 3.5',
    );
  });

  test("a call before start() waits for the connection; after close() calls reject with closed", async () => {
    const { client } = newClient();
    const early = client.call("add", { a: 1, b: 1 });
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    ws.receiveJSON({ name: "add", message: 2, isAmbiorix: true, replyTo: ws.sentJSON()[0]!.id });
    assert.equal(await early, 2);
    const pending = client.call("x");
    client.close();
    await assert.rejects(pending, (err: unknown) => err instanceof CallError && err.code === "closed");
    await assert.rejects(client.call("x"), (err: unknown) => err instanceof CallError && err.code === "closed");
  });

  test("a payload JSON cannot carry rejects at once and leaves nothing behind", async () => {
    const { client, ws } = openClient();
    await assert.rejects(client.call("big", 1n, { timeout: Infinity }), TypeError);
    assert.deepEqual(ws.sent, []);
  });
});

test("a decoder that throws something else fails the payload instead of breaking the client", () => {
  const { client, errors } = newClient({
    decoders: {
      message: {
        n: () => {
          throw new Error("bug");
        },
      },
    },
  });
  const got: unknown[] = [];
  client.on("n", (m) => got.push(m));
  client.on("m", (m) => got.push(m));
  client.start();
  const ws = FakeWebSocket.last();
  ws.open();
  assert.doesNotThrow(() => ws.receiveJSON({ name: "n", message: 1, isAmbiorix: true }));
  ws.receiveJSON({ name: "m", message: 2, isAmbiorix: true });
  assert.deepEqual(got, [2]);
  const err = errors[0];
  assert.ok(err instanceof ValidationError);
  assert.equal(err.problem, "decoder threw: bug");
});

describe("calls from the server", () => {
  test("handlers answer with a reply, an error code of their choosing, or internal", async () => {
    const { client, ws } = openClient();
    client.handle("double", (req) => (req as number) * 2);
    client.handle("later", async (req) => {
      await tick(1);
      return { echoed: req };
    });
    client.handle("find", () => {
      throw new CallError("not_found", "no such thing");
    });
    client.handle("crash", () => {
      throw new TypeError("oops");
    });
    ws.receiveJSON({ name: "double", message: 21, isAmbiorix: true, id: "1" });
    ws.receiveJSON({ name: "later", message: "x", isAmbiorix: true, id: "2" });
    ws.receiveJSON({ name: "find", message: null, isAmbiorix: true, id: "3" });
    ws.receiveJSON({ name: "crash", message: null, isAmbiorix: true, id: "4" });
    ws.receiveJSON({ name: "nobody", message: null, isAmbiorix: true, id: "5" });
    await waitFor(() => ws.sent.length === 5, 1000, "five replies");
    const byId = new Map(ws.sentJSON().map((e) => [e.replyTo, e]));
    assert.equal(ws.sent[0], '{"name":"double","message":42,"isAmbiorix":true,"replyTo":"1"}');
    assert.deepEqual(byId.get("2"), { name: "later", message: { echoed: "x" }, isAmbiorix: true, replyTo: "2" });
    assert.deepEqual(byId.get("3"), { name: "find", message: null, isAmbiorix: true, replyTo: "3", error: { code: "not_found", message: "no such thing" } });
    assert.deepEqual(byId.get("4"), { name: "crash", message: null, isAmbiorix: true, replyTo: "4", error: { code: "internal", message: "oops" } });
    assert.equal((byId.get("5")!.error as { code: string }).code, "unimplemented");
  });

  test("a handler gets the decoded request; one its decoder refuses is answered invalid_argument without calling the handler", async () => {
    const { client, ws } = openClient();
    const got: unknown[] = [];
    client.handle("double", (req) => {
      got.push(req);
      return (req as number) * 2;
    });
    client.setDecoder("double", readInt, "request");
    ws.receiveJSON({ name: "double", message: "21", isAmbiorix: true, id: "8" });
    ws.receiveJSON({ name: "double", message: "21.5", isAmbiorix: true, id: "9" });
    await waitFor(() => ws.sent.length === 2, 1000, "two replies");
    assert.deepEqual(ws.sentJSON(), [
      { name: "double", message: 42, isAmbiorix: true, replyTo: "8" },
      {
        name: "double",
        message: null,
        isAmbiorix: true,
        replyTo: "9",
        error: { code: "invalid_argument", message: 'expected integer, got string "21.5"' },
      },
    ]);
    assert.deepEqual(got, [21]);
  });

  test("a reply that cannot be serialised still answers, with internal", async () => {
    const { client, ws } = openClient();
    client.handle("big", () => 10n);
    ws.receiveJSON({ name: "big", message: null, isAmbiorix: true, id: "1" });
    await waitFor(() => ws.sent.length === 1, 1000, "a reply");
    assert.equal((ws.sentJSON()[0]!.error as { code: string }).code, "internal");
  });
});

describe("status, hooks and reconnect", () => {
  test("backoff grows by factor, is capped, and jitter only shortens it", () => {
    const o = { initialDelay: 100, factor: 2, maxDelay: 1000, jitter: 0.5 };
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => backoffDelay(n, o, () => 0)), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(backoffDelay(2, o, () => 1), 200);
    for (let i = 0; i < 50; i++) {
      const d = backoffDelay(3, o);
      assert.ok(d >= 400 && d <= 800, `delay ${d} outside [400, 800]`);
    }
    assert.equal(backoffDelay(0, { initialDelay: 100, jitter: 0 }, () => 1), 100);
    assert.equal(backoffDelay(0, {}, () => 0), 500, "default initial delay");
  });

  test("after a drop it reconnects, flushes what was queued meanwhile and calls the hooks", async () => {
    const { client, errors } = newClient({ reconnect: { initialDelay: 1, jitter: 0 } });
    const events: string[] = [];
    client.onopen = () => events.push("open");
    client.onclose = (info) => events.push(`close ${info.code} ${String(info.reconnecting)}`);
    client.start();
    const first = FakeWebSocket.last();
    first.open();
    first.drop(1001, "going away");
    assert.equal(client.status, "connecting");
    assert.equal(client.send("queued", 1), true);
    await waitFor(() => FakeWebSocket.instances.length === 2, 1000, "a second socket");
    const second = FakeWebSocket.last();
    assert.equal(second.url, URL);
    second.open();
    assert.equal(client.status, "open");
    assert.deepEqual(second.sentJSON(), [{ name: "queued", message: 1, isAmbiorix: true }]);
    assert.deepEqual(events, ["open", "close 1001 true", "open"]);
    assert.equal(errors.length, 1, "the socket error is reported once");
  });

  test("failed attempts back off and give up after maxAttempts", async () => {
    const { client } = newClient({ reconnect: { initialDelay: 1, jitter: 0, maxAttempts: 2 } });
    const closes: boolean[] = [];
    client.onclose = (info) => closes.push(info.reconnecting);
    client.start();
    FakeWebSocket.last().drop();
    await waitFor(() => FakeWebSocket.instances.length === 2, 1000, "retry 1");
    FakeWebSocket.last().drop();
    await waitFor(() => FakeWebSocket.instances.length === 3, 1000, "retry 2");
    FakeWebSocket.last().drop();
    await tick(20);
    assert.equal(FakeWebSocket.instances.length, 3);
    assert.equal(client.status, "closed");
    assert.deepEqual(closes, [true, true, false]);
    assert.equal(client.send("x", 1), false);
  });

  test("an attempt that errors without a close event, or hangs, still leads to a retry", async () => {
    const { client, errors } = newClient({ reconnect: { initialDelay: 1, jitter: 0 }, connectTimeout: 20 });
    const closes: string[] = [];
    client.onclose = (info) => closes.push(`${info.code} ${info.reason}`);
    client.start();
    // Node 20's WebSocket reports a refused connection with an error event only.
    FakeWebSocket.last().onerror?.({});
    await waitFor(() => FakeWebSocket.instances.length === 2, 1000, "a retry after the error");
    assert.deepEqual(FakeWebSocket.instances[0]!.closedWith, { code: undefined, reason: undefined });
    // The second attempt never opens nor fails: connectTimeout gives up on it.
    await waitFor(() => FakeWebSocket.instances.length === 3, 1000, "a retry after the timeout");
    assert.deepEqual(closes, ["1006 connection failed", "1006 connect timeout"]);
    assert.equal(errors.length, 1);
    FakeWebSocket.last().open();
    await tick(30);
    assert.equal(client.status, "open", "the timer of an opened socket is cleared");
    client.close();
  });

  test("with reconnect off a drop is final", async () => {
    const { client } = newClient({ reconnect: false });
    client.start();
    FakeWebSocket.last().open();
    FakeWebSocket.last().drop();
    await tick(10);
    assert.equal(client.status, "closed");
    assert.equal(FakeWebSocket.instances.length, 1);
  });

  test("close() closes with 1000, stops reconnecting and refuses sends; start() connects again", async () => {
    const { client } = newClient({ reconnect: { initialDelay: 1 } });
    const closes: number[] = [];
    client.onclose = (info) => closes.push(info.code);
    client.start();
    const ws = FakeWebSocket.last();
    ws.open();
    client.close();
    assert.equal(client.status, "closed");
    assert.deepEqual(ws.closedWith, { code: 1000, reason: "" });
    assert.deepEqual(closes, [1000]);
    assert.equal(client.send("x", 1), false);
    await tick(10);
    assert.equal(FakeWebSocket.instances.length, 1);
    client.start();
    assert.equal(client.status, "connecting");
    FakeWebSocket.last().open();
    assert.equal(FakeWebSocket.instances.length, 2);
    assert.equal(client.status, "open");
  });

  test("the default URL follows the page like ambiorix.js", () => {
    const g = globalThis as { location?: unknown };
    assert.throws(() => defaultURL(), /options\.url/);
    try {
      g.location = { protocol: "https:", host: "example.test:8443" };
      assert.equal(defaultURL(), "wss://example.test:8443/");
      g.location = { protocol: "http:", host: "127.0.0.1:3000" };
      assert.equal(defaultURL(), "ws://127.0.0.1:3000/");
      const client = new Client({ WebSocket: FakeWebSocket });
      client.start();
      assert.equal(FakeWebSocket.last().url, "ws://127.0.0.1:3000/");
      client.close();
    } finally {
      delete g.location;
    }
  });

  test("without a URL or WebSocket class start() reports the problem and the client is closed", () => {
    const { client, errors } = newClient({ url: undefined as unknown as string });
    const c2 = new Client({ url: URL, WebSocket: undefined as unknown as typeof FakeWebSocket });
    const e2: Error[] = [];
    c2.onerror = (e) => e2.push(e);
    client.start();
    assert.equal(client.status, "closed");
    assert.match(errors[0]!.message, /options\.url/);
    const saved = (globalThis as { WebSocket?: unknown }).WebSocket;
    try {
      delete (globalThis as { WebSocket?: unknown }).WebSocket;
      c2.start();
    } finally {
      (globalThis as { WebSocket?: unknown }).WebSocket = saved;
    }
    assert.equal(c2.status, "closed");
    assert.match(e2[0]!.message, /WebSocket/);
  });
});

describe("refused connections", () => {
  test("a handshake the server refuses stops the client: status, hook, reason, no retry loop", async () => {
    fakeFetch.answer = () => ({ status: 401, body: "log in first" });
    const { client } = newClient({ reconnect: { initialDelay: 5, maxDelay: 5 } });
    const refusals: unknown[] = [];
    client.onrefused = (r) => refusals.push(r);
    const call = assert.rejects(client.call("add", { a: 1, b: 2 }), (err: unknown) => err instanceof CallError && err.code === "closed" && /HTTP 401: log in first/.test(err.message));
    client.start();
    FakeWebSocket.last().drop();
    await waitFor(() => client.status === "refused", 2000, "refused");
    await call;
    assert.deepEqual(refusals, [{ status: 401, reason: "log in first" }]);
    assert.deepEqual(client.refusal, { status: 401, reason: "log in first" });
    assert.equal(fakeFetch.calls.length, 1);
    assert.match(fakeFetch.calls[0]!, /^http:\/\/fake\.test\/\?ambigen-probe=1$/);
    // At 5 ms between attempts a loop would have made dozens by now.
    await tick(100);
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.equal(client.send("x", 1), false);
    // start() tries again, and a success clears the refusal.
    fakeFetch.answer = () => ({ status: 204, body: "" });
    client.start();
    FakeWebSocket.last().open();
    assert.equal(client.status, "open");
    assert.equal(client.refusal, null);
  });

  test("a failure the server does not explain is retried as before", async () => {
    fakeFetch.answer = () => undefined; // the server is down
    const { client } = newClient({ reconnect: { initialDelay: 5, maxDelay: 5 } });
    client.onrefused = () => assert.fail("not refused");
    client.start();
    for (const [i, answer] of [undefined, undefined, { status: 200, body: "<html>an R server's page</html>" }].entries()) {
      fakeFetch.answer = () => answer;
      FakeWebSocket.last().drop();
      await waitFor(() => FakeWebSocket.instances.length === i + 2, 2000, `retry ${i + 1}`);
      assert.equal(client.status, "connecting");
    }
    assert.equal(fakeFetch.calls.length, 3);
  });

  test("probe: false asks nothing", async () => {
    fakeFetch.answer = () => ({ status: 403, body: "no" });
    const { client } = newClient({ probe: false });
    client.start();
    FakeWebSocket.last().drop();
    await tick(20);
    assert.equal(fakeFetch.calls.length, 0);
    assert.equal(client.status, "closed");
  });
});
