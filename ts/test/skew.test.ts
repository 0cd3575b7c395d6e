// The client's half of the version handshake, on the scripted fake socket:
// what goes into the URL, how the verdict is read and that it never reaches
// a listener. integration.test.ts runs it against the Go server.
import assert from "node:assert/strict";
import { afterEach, describe, test } from "node:test";

import { Client, type ClientOptions } from "../src/client.js";
import { connect, fingerprint as genFingerprint } from "../src/gen/messages.js";
import { handshakeMessage, handshakeQuery, readVerdict, withFingerprint, type Version } from "../src/skew.js";
import { FakeWebSocket } from "./fake.js";

const fpOld = "0123456789abcdef0123456789abcdef";
const fpServer = "00112233445566778899aabbccddeeff";

const made: { close(): void }[] = [];
afterEach(() => {
  for (const c of made.splice(0)) c.close();
  FakeWebSocket.reset();
});

function newClient(opts: ClientOptions = {}) {
  const client = new Client({ url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false, ...opts });
  made.push(client);
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  const verdicts: Version[] = [];
  client.onversion = (v) => verdicts.push(v);
  const seen: [string, unknown][] = [];
  client.onAny((name, msg) => seen.push([name, msg]));
  client.start();
  return { client, errors, verdicts, seen, ws: FakeWebSocket.last() };
}

function verdict(status: string, fp = fpServer) {
  return { name: handshakeMessage, message: { status, fingerprint: fp }, isAmbiorix: true };
}

describe("announcing", () => {
  test("the fingerprint goes into the URL's query, the rest of the URL as given", () => {
    const cases: [string, string][] = [
      ["ws://h/", `ws://h/?${handshakeQuery}=F`],
      ["ws://h/room?a=1&b=x%20y", `ws://h/room?a=1&b=x%20y&${handshakeQuery}=F`],
      [`ws://h/?${handshakeQuery}=stale&a=1`, `ws://h/?a=1&${handshakeQuery}=F`],
      ["/socket", `/socket?${handshakeQuery}=F`],
      ["ws://h/?a#x", `ws://h/?a&${handshakeQuery}=F#x`],
    ];
    for (const [url, want] of cases) assert.equal(withFingerprint(url, "F"), want, url);
  });

  test("a client with a fingerprint announces it, one without leaves the URL alone", () => {
    const a = newClient({ url: "ws://fake.test/chat?room=7", fingerprint: fpOld });
    assert.equal(a.ws.url, `ws://fake.test/chat?room=7&${handshakeQuery}=${fpOld}`);
    const b = newClient({ url: "ws://fake.test/chat?room=7" });
    assert.equal(b.ws.url, "ws://fake.test/chat?room=7");
  });

  test("the default URL, derived from the page, gets it too", () => {
    const g = globalThis as { location?: unknown };
    g.location = { protocol: "https:", host: "example.test:8443" };
    try {
      const api = connect({ WebSocket: FakeWebSocket, reconnect: false });
      made.push(api);
      assert.equal(FakeWebSocket.last().url, `wss://example.test:8443/?${handshakeQuery}=${genFingerprint}`);
    } finally {
      delete g.location;
    }
  });

  test("the generated connect() announces its schema's fingerprint; an explicit one wins", () => {
    made.push(connect({ url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false }));
    assert.match(genFingerprint, /^[0-9a-f]{32}$/);
    assert.equal(FakeWebSocket.last().url, `ws://fake.test/?${handshakeQuery}=${genFingerprint}`);
    made.push(connect({ url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false, fingerprint: fpOld }));
    assert.equal(FakeWebSocket.last().url, `ws://fake.test/?${handshakeQuery}=${fpOld}`);
  });
});

describe("the verdict", () => {
  test("sets the version, calls onversion once, and reaches no listener", () => {
    const { client, errors, verdicts, seen, ws } = newClient({ fingerprint: fpOld });
    const direct: unknown[] = [];
    client.on(handshakeMessage, (m) => direct.push(m));
    assert.deepEqual(client.version, { status: "unknown", fingerprint: "" });
    ws.open();
    ws.receiveJSON(verdict("reload"));
    ws.receiveJSON({ name: "chat", message: "hi", isAmbiorix: true });
    assert.deepEqual(client.version, { status: "reload", fingerprint: fpServer });
    assert.deepEqual(verdicts, [{ status: "reload", fingerprint: fpServer }]);
    assert.deepEqual(seen, [["chat", "hi"]]);
    assert.deepEqual(direct, []);
    assert.deepEqual(errors, []);
  });

  test("each connection starts unknown; a reconnect learns the new server's verdict", () => {
    const client = new Client({
      url: "ws://fake.test/",
      WebSocket: FakeWebSocket,
      fingerprint: fpOld,
      reconnect: { initialDelay: 1, jitter: 0 },
    });
    made.push(client);
    const verdicts: Version[] = [];
    client.onversion = (v) => verdicts.push(v);
    client.onerror = () => {}; // the dropped socket's error is expected
    client.start();
    const first = FakeWebSocket.last();
    first.open();
    first.receiveJSON(verdict("compatible"));
    assert.equal(client.version.status, "compatible");
    first.drop();
    // While it reconnects, the last verdict stands.
    assert.equal(client.version.status, "compatible");
    return new Promise<void>((resolve) => {
      setTimeout(() => {
        const second = FakeWebSocket.last();
        assert.notEqual(second, first);
        assert.equal(second.url, `ws://fake.test/?${handshakeQuery}=${fpOld}`);
        second.open();
        assert.equal(client.version.status, "unknown", "a new connection has no verdict yet");
        second.receiveJSON(verdict("reload", fpOld.split("").reverse().join("")));
        assert.deepEqual(
          verdicts.map((v) => v.status),
          ["compatible", "reload"],
        );
        resolve();
      }, 20);
    });
  });

  test("a verdict this client cannot read is no verdict", () => {
    const { client, verdicts, seen, errors, ws } = newClient({ fingerprint: fpOld });
    ws.open();
    for (const message of [{ status: "upgrade" }, "compatible", null, { status: 7 }, [{ status: "reload" }]]) {
      ws.receiveJSON({ name: handshakeMessage, message, isAmbiorix: true });
    }
    ws.receiveJSON({ name: "ambigen:news", message: { status: "reload" }, isAmbiorix: true });
    assert.equal(client.version.status, "unknown");
    assert.deepEqual(verdicts, []);
    assert.deepEqual(seen, [], "reserved names reach no listener");
    assert.deepEqual(errors, []);
    // Keys it does not know are ignored; a fingerprint that is not one is not kept.
    ws.receiveJSON({ name: handshakeMessage, message: { status: "compatible", fingerprint: "<b>", since: 3 }, isAmbiorix: true });
    assert.deepEqual(client.version, { status: "compatible", fingerprint: "" });
  });

  test("an exception in onversion goes to onerror, and the client goes on", () => {
    const { client, errors, seen, ws } = newClient({ fingerprint: fpOld });
    client.onversion = () => {
      throw new Error("page bug");
    };
    ws.open();
    ws.receiveJSON(verdict("compatible"));
    ws.receiveJSON({ name: "chat", message: "after", isAmbiorix: true });
    assert.equal(client.version.status, "compatible");
    assert.deepEqual(errors.map((e) => e.message), ["page bug"]);
    assert.deepEqual(seen, [["chat", "after"]]);
  });

  test("a call to a reserved name is answered unimplemented, even with a handler", () => {
    const { client, ws } = newClient();
    client.handle(handshakeMessage, () => "mine");
    ws.open();
    ws.receiveJSON({ name: handshakeMessage, message: null, isAmbiorix: true, id: "9" });
    assert.deepEqual(ws.sentJSON(), [
      { name: handshakeMessage, message: null, isAmbiorix: true, replyTo: "9", error: { code: "unimplemented", message: `no handler for "${handshakeMessage}"` } },
    ]);
  });

  test("readVerdict", () => {
    assert.deepEqual(readVerdict({ status: "reload", fingerprint: fpServer }), { status: "reload", fingerprint: fpServer });
    assert.deepEqual(readVerdict({ status: "compatible" }), { status: "compatible", fingerprint: "" });
    assert.deepEqual(readVerdict({ status: "compatible", fingerprint: fpServer.toUpperCase() }), { status: "compatible", fingerprint: "" });
    assert.equal(readVerdict({ status: "unknown" }), undefined, "unknown is the absence of a verdict, not one");
    assert.equal(readVerdict(undefined), undefined);
  });

  test("the typed client shows the verdict", () => {
    const api = connect({ url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false });
    made.push(api);
    const ws = FakeWebSocket.last();
    assert.equal(api.version.status, "unknown");
    ws.open();
    ws.receiveJSON(verdict("compatible"));
    assert.deepEqual(api.version, { status: "compatible", fingerprint: fpServer });
  });
});
