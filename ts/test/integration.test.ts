// The built client (jsclient/ambiorix.mjs and jsclient/ambiorix.js, the very
// files the Go server embeds) against a real Go server from this repository
// over loopback, with Node's own WebSocket.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import vm from "node:vm";

import { fingerprint as genFingerprint } from "../src/gen/messages.js";
import type * as Lib from "../src/index.js";
import { waitFor } from "./fake.js";
import { GoServer, buildServer, repoRoot } from "./goserver.js";

const lib = (await import(pathToFileURL(join(repoRoot, "jsclient", "ambiorix.mjs")).href)) as typeof Lib;
const { CallError, Client, createTypedClient, readInt } = lib;

let bin = "";
let server: GoServer;
const clients: Lib.Client[] = [];

before(async () => {
  bin = buildServer();
  server = await GoServer.start(bin);
});

after(async () => {
  for (const c of clients) c.close();
  await server.stop();
});

function connect(opts: Lib.ClientOptions = {}): { client: Lib.Client; errors: Error[] } {
  const client = new Client({ url: server.url, reconnect: false, ...opts });
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  clients.push(client);
  client.start();
  return { client, errors };
}

/** The next message named name, or a rejection after ms. */
function next(client: Lib.Client, name: string, ms = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${name}" within ${ms} ms`));
    }, ms);
    const off = client.on(name, (msg) => {
      clearTimeout(timer);
      off();
      resolve(msg);
    });
  });
}

const isCode = (code: string) => (err: unknown) => err instanceof CallError && err.code === code;

describe("against the Go runtime", () => {
  test("send and receive: greeting", async () => {
    const { client, errors } = connect();
    // Sent before the socket opens: queued, then answered.
    client.send("greeting", "Hello from Node!");
    assert.equal(await next(client, "greeting"), "Hello from the server!");
    assert.equal(client.status, "open");
    assert.deepEqual(errors, []);
  });

  test("broadcast reaches both clients", async () => {
    const a = connect().client;
    const b = connect().client;
    await waitFor(() => a.status === "open" && b.status === "open", 3000, "both open");
    const gotA = next(a, "chat");
    const gotB = next(b, "chat");
    a.send("chat", { from: "a", text: "hi all" });
    assert.deepEqual(await gotA, { from: "a", text: "hi all" });
    assert.deepEqual(await gotB, { from: "a", text: "hi all" });
  });

  test("calls: reply, error code, invalid argument, unimplemented, timeout", async () => {
    const { client } = connect();
    assert.equal(await client.call("add", { a: 40, b: 2 }, { timeout: 3000 }), 42);
    await assert.rejects(client.call("fail", null), (err: unknown) => isCode("not_found")(err) && (err as Error).message === "no such thing");
    await assert.rejects(client.call("add", { a: "x", b: 2 }), isCode("invalid_argument"));
    await assert.rejects(client.call("nope", null), isCode("unimplemented"));
    await assert.rejects(client.call("slow", 300, { timeout: 50 }), isCode("timeout"));
    // The late reply of "slow" must not disturb later calls.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await client.call("add", { a: 1, b: 2 }), 3);
  });

  test("the server calls the client: reply and error reply", async () => {
    const { client } = connect();
    client.handle("double", (n) => {
      if (n === 0) throw new CallError("invalid_argument", "zero is boring");
      return (n as number) * 2;
    });
    const first = next(client, "answer");
    client.send("ask", 21);
    assert.deepEqual(await first, { value: 42 });
    const second = next(client, "answer");
    client.send("ask", 0);
    assert.deepEqual(await second, { code: "invalid_argument", message: "zero is boring" });
  });

  test("the typed client works end to end", async () => {
    type Messages = {
      clientToServer: { greeting: string };
      serverToClient: { greeting: string };
      clientCalls: { add: { request: { a: number; b: number }; reply: number } };
      serverCalls: Record<string, never>;
    };
    const api = createTypedClient<Messages>(
      {
        clientToServer: ["greeting"],
        serverToClient: ["greeting"],
        clientCalls: ["add"],
        serverCalls: [],
        decoders: { message: {}, reply: { add: readInt }, request: {} },
      },
      { url: server.url, reconnect: false },
    );
    clients.push(api.client);
    const greeting = new Promise<string>((resolve) => api.on.greeting(resolve));
    api.send.greeting("hi");
    assert.equal(await greeting, "Hello from the server!");
    assert.equal(await api.call.add({ a: 2, b: 3 }), 5);
  });

  test("the version handshake: the server's own schema is compatible, another is told to reload", async () => {
    const other = "0123456789abcdef0123456789abcdef";
    for (const [fp, want] of [
      [genFingerprint, "compatible"],
      [other, "reload"],
    ] as const) {
      const { client, errors } = connect({ fingerprint: fp });
      const seen: string[] = [];
      client.onAny((name) => seen.push(name));
      const verdict = new Promise<Lib.Version>((resolve) => {
        client.onversion = resolve;
      });
      const greeting = next(client, "greeting");
      client.send("greeting", "hi");
      assert.deepEqual(await verdict, { status: want, fingerprint: genFingerprint }, fp);
      await greeting;
      assert.deepEqual(client.version, { status: want, fingerprint: genFingerprint });
      assert.deepEqual(seen, ["greeting"], "the verdict reaches no listener");
      assert.deepEqual(errors, []);
    }
    // Without an announcement there is no verdict: the first message is the greeting's answer.
    const { client } = connect();
    const seen: string[] = [];
    client.onAny((name) => seen.push(name));
    client.send("greeting", "hi");
    await next(client, "greeting");
    assert.deepEqual(seen, ["greeting"]);
    assert.equal(client.version.status, "unknown");
  });

  test("a page written for ambiorix.js runs unchanged on the <script> bundle", async () => {
    const got: unknown[] = [];
    const page = vm.createContext({
      WebSocket,
      location: { protocol: "http:", host: server.addr },
      setTimeout,
      clearTimeout,
      console,
      report: (x: unknown) => got.push(x),
    });
    vm.runInContext(readFileSync(join(repoRoot, "jsclient", "ambiorix.js"), "utf8"), page, { filename: "ambiorix.js" });
    // The chat page of the Ambiorix documentation, as a browser would run it.
    vm.runInContext(
      `var wss = new Ambiorix();
       wss.receive("greeting", function (msg) { report(msg); });
       wss.receive("chat", function (msg) { report("chat: " + msg); });
       wss.start();
       Ambiorix.send("greeting", "Hello from the browser!");
       Ambiorix.send("chat", "hi all");`,
      page,
    );
    await waitFor(() => got.length === 2, 3000, "greeting and chat");
    assert.deepEqual(got, ["Hello from the server!", "chat: hi all"]);
    // The page announced nothing, so the server, which knows its schema, judged nothing.
    assert.equal(vm.runInContext("Ambiorix.client.version.status", page), "unknown");
    vm.runInContext("Ambiorix.client.close()", page);
  });

  for (const status of [401, 403] as const) {
    test(`a ${status} refusal stops the client with its status and reason, without a retry loop`, async () => {
      let sockets = 0;
      const Counting = class extends WebSocket {
        constructor(url: string) {
          super(url);
          sockets++;
        }
      };
      const { client } = connect({ url: `${server.url}?deny=${status}`, WebSocket: Counting, reconnect: { initialDelay: 20, maxDelay: 20 } });
      const refusals: Lib.Refusal[] = [];
      client.onrefused = (r) => refusals.push(r);
      await waitFor(() => client.status === "refused", 3000, "refused");
      const reason = status === 401 ? "log in first" : "not today";
      assert.deepEqual(refusals, [{ status, reason }]);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(sockets <= 2, `${sockets} attempts at 20 ms apart: the client kept retrying a refusal`);
      const rejected = client.call("add", { a: 1, b: 2 });
      await assert.rejects(rejected, isCode("closed"));
    });
  }

  for (const [how, signal, code] of [
    ["shuts down", "SIGTERM", 1001],
    ["crashes", "SIGKILL", 1006],
  ] as const) {
    test(`it reconnects after the server ${how} and restarts, failing calls in flight and flushing what was queued`, async () => {
      const { client, errors } = connect({ reconnect: { initialDelay: 50, maxDelay: 200 } });
      const closes: Lib.CloseInfo[] = [];
      let opens = 0;
      client.onopen = () => opens++;
      client.onclose = (info) => closes.push(info);
      await waitFor(() => client.status === "open", 3000, "open");
      // The expectation is attached now: the rejection comes while the server stops.
      const inFlight = assert.rejects(client.call("slow", 10_000, { timeout: 20_000 }), isCode("closed"));
      await new Promise((r) => setTimeout(r, 50));

      const addr = server.addr;
      await server.stop(signal);
      await inFlight;
      assert.equal(client.status, "connecting");
      assert.equal(closes[0]?.code, code);
      assert.equal(closes[0]?.reconnecting, true);
      assert.equal(client.send("greeting", "are you back?"), true);

      await new Promise((r) => setTimeout(r, 300)); // a few refused attempts while it is down
      server = await GoServer.start(bin, addr);
      assert.equal(await next(client, "greeting", 5000), "Hello from the server!");
      assert.equal(client.status, "open");
      assert.equal(opens, 2);
      assert.ok(closes.length >= 2 && closes.slice(1).every((c) => c.code === 1006 && c.reconnecting), "refused attempts count as abnormal closes");
      assert.ok(errors.length >= 1, "refused attempts are reported");
      client.close();
    });
  }
});
