import assert from "node:assert/strict";
import { afterEach, test } from "node:test";

import { CallError } from "../src/client.js";
import { codePoints, EncodeError, quoteInput, withRules } from "../src/constraints.js";
import { PayloadError, readField, readInt, readList, readMap, readObject, readString } from "../src/decode.js";
import { connect } from "../src/gen/messages.js";
import { createTypedClient, type Descriptor } from "../src/typed.js";
import { FakeWebSocket, waitFor } from "./fake.js";

afterEach(() => FakeWebSocket.reset());

function problem(fn: () => unknown): string {
  try {
    fn();
    return "valid";
  } catch (err) {
    assert.ok(err instanceof PayloadError, String(err));
    return err.message;
  }
}

test("each rule refuses what breaks it, in the Go runtime's words", () => {
  const title = withRules(readString, { minLength: 1, maxLength: 5 });
  const slug = withRules(readString, { pattern: "^[a-z]+$" });
  const count = withRules(readInt, { min: 0, max: 10 });
  const ratio = withRules((v) => v as number, { exclusiveMin: 0, exclusiveMax: 1 });
  const tags = withRules(readList(withRules(readString, { maxLength: 2 })), { minItems: 1, maxItems: 2 });
  const labels = withRules(readMap(readInt), { minEntries: 1, maxEntries: 1 });
  const cases: [() => unknown, string][] = [
    [() => title("héllo"), "valid"],
    [() => title("😀😀😀😀😀"), "valid"],
    [() => title("😀😀😀😀😀😀"), "longer than 5 characters (maxLength 5)"],
    [() => title(""), "shorter than 1 character (minLength 1)"],
    [() => slug("Ab"), '"Ab" does not match (pattern ^[a-z]+$)'],
    [() => slug("x".repeat(100) + "!"), '"' + "x".repeat(64) + '"... (101 bytes in all) does not match (pattern ^[a-z]+$)'],
    [() => count(-1), "-1 is less than 0 (min 0)"],
    [() => count("3000000000"), "3000000000 is more than 10 (max 10)"],
    [() => count(10), "valid"],
    [() => ratio(0), "0 is not more than 0 (exclusiveMin 0)"],
    [() => ratio(1), "1 is not less than 1 (exclusiveMax 1)"],
    [() => ratio(-1e-7), "-1e-7 is not more than 0 (exclusiveMin 0)"],
    [() => tags(["a", "abc"]), "[1]: longer than 2 characters (maxLength 2)"],
    [() => tags(["a", "b", "c"]), "more than 2 items (maxItems 2)"],
    [() => tags([]), "fewer than 1 item (minItems 1)"],
    [() => tags("abc"), "expected array: longer than 2 characters (maxLength 2)"],
    [() => labels({ a: 1, b: 2 }), "more than 1 entry (maxEntries 1)"],
    [() => labels([]), "fewer than 1 entry (minEntries 1)"],
    [() => readField(readObject({ title: "toolong" }), "title", "", title), "title: longer than 5 characters (maxLength 5)"],
  ];
  for (const [fn, want] of cases) assert.equal(problem(fn), want);
});

test("lengths count code points, not UTF-16 units", () => {
  assert.equal(codePoints(""), 0);
  assert.equal(codePoints("abc"), 3);
  assert.equal(codePoints("é😀"), 2);
  assert.equal(codePoints("\ud83d"), 1); // a lone surrogate is one, as the U+FFFD Go reads it as
  assert.equal(codePoints("a\udc00b"), 3);
  const two = withRules(readString, { minLength: 2, maxLength: 2 });
  assert.equal(problem(() => two("😀")), "shorter than 2 characters (minLength 2)");
  assert.equal(problem(() => two("😀😀")), "valid");
  assert.equal(problem(() => two("😀😀😀")), "longer than 2 characters (maxLength 2)");
});

test("quoteInput quotes as Go's strconv.Quote and cuts at 64 UTF-8 bytes", () => {
  const cases: [string, string][] = [
    ["plain", '"plain"'],
    ['say "hi" \\ there', '"say \\"hi\\" \\\\ there"'],
    ["\u0007\b\f\n\r\t\v\u0000\u001f\u007f", '"\\a\\b\\f\\n\\r\\t\\v\\x00\\x1f\\x7f"'],
    ["é😀\u00a0\u2028\u200b\ufeff", '"é😀\\u00a0\\u2028\\u200b\\ufeff"'],
    ["\u{e0001}", '"\\U000e0001"'],
    ["\\u0007", '"\\\\u0007"'],
    ["é".repeat(40), '"' + "é".repeat(32) + '"... (80 bytes in all)'],
    ["a" + "😀".repeat(20), '"a' + "😀".repeat(15) + '"... (81 bytes in all)'],
  ];
  for (const [s, want] of cases) assert.equal(quoteInput(s), want, JSON.stringify(s));
});

// A hand-written descriptor, as ambigen generates for a schema with a
// constrained message, call request and call reply.
const decodeNote = (v: unknown, path = ""): { text: string } => {
  const o = readObject(v, path);
  return { text: readField(o, "text", path, withRules(readString, { maxLength: 5 })) };
};
const short = withRules(readString, { maxLength: 3 });
const descriptor: Descriptor = {
  clientToServer: ["note", "free"],
  serverToClient: [],
  clientCalls: ["ask"],
  serverCalls: ["confirm"],
  decoders: { message: {}, reply: { ask: readString }, request: { confirm: readString } },
  outgoing: { message: { note: decodeNote }, request: { ask: short }, reply: { confirm: short } },
};
type Messages = {
  clientToServer: { note: { text: string }; free: string };
  serverToClient: {};
  clientCalls: { ask: { request: string; reply: string } };
  serverCalls: { confirm: { request: string; reply: string } };
};

test("the typed client sends nothing that breaks a constraint", async () => {
  const api = createTypedClient<Messages>(descriptor, { url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false });
  const ws = FakeWebSocket.last();
  ws.open();

  assert.throws(
    () => api.send.note({ text: "too long" }),
    (e: unknown) =>
      e instanceof EncodeError &&
      e.message === '"note" not sent: text: longer than 5 characters (maxLength 5)' &&
      e.messageName === "note" &&
      e.path === "text" &&
      e.problem === "longer than 5 characters (maxLength 5)",
  );
  api.send.note({ text: "fine" });
  api.send.free("anything at all: free has no constraints");
  assert.deepEqual(
    ws.sentJSON().map((m) => m.message),
    [{ text: "fine" }, "anything at all: free has no constraints"],
  );

  await assert.rejects(api.call.ask("long"), (e: unknown) => e instanceof EncodeError && e.problem === "longer than 3 characters (maxLength 3)");
  assert.equal(ws.sent.length, 2, "a refused request is not sent");
  const ok = api.call.ask("yes", { timeout: 1000 });
  const req = ws.sentJSON()[2]!;
  ws.receiveJSON({ name: "ask", message: "answer", isAmbiorix: true, replyTo: req.id });
  assert.equal(await ok, "answer");

  // A reply that breaks a constraint is not sent either: the caller is told "internal".
  let n = 0;
  api.handle.confirm(async (q) => (n++ === 0 ? "too long for " + q : "ok"));
  ws.receiveJSON({ name: "confirm", message: "q", isAmbiorix: true, id: "s1" });
  ws.receiveJSON({ name: "confirm", message: "q", isAmbiorix: true, id: "s2" });
  await waitFor(() => ws.sent.length === 5, 1000, "two replies");
  const [refused, answered] = ws.sentJSON().slice(3);
  assert.equal(refused!.replyTo, "s1");
  assert.equal(refused!.message, null);
  assert.equal((refused!.error as { code: string }).code, "internal");
  assert.equal(answered!.replyTo, "s2");
  assert.equal(answered!.message, "ok");
  api.close();
});

test("a descriptor without outgoing checks sends as before", () => {
  const { outgoing: _, ...plain } = descriptor;
  const api = createTypedClient<Messages>(plain, { url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false });
  FakeWebSocket.last().open();
  api.send.note({ text: "far too long for the rule that is not there" });
  assert.equal(FakeWebSocket.last().sent.length, 1);
  api.close();
});

test("a call refused before sending rejects with the EncodeError, not a CallError", async () => {
  const api = createTypedClient<Messages>(descriptor, { url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false });
  await assert.rejects(api.call.ask("long"), (e: unknown) => e instanceof EncodeError && !(e instanceof CallError));
  api.close();
});

test("the generated client checks the schema's constraints both ways", () => {
  const chat = connect({ url: "ws://fake.test/", WebSocket: FakeWebSocket, reconnect: false });
  const errors: string[] = [];
  chat.client.onerror = (e) => errors.push(e.message);
  const posts: string[] = [];
  chat.on.post((p) => posts.push(p.text));
  const ws = FakeWebSocket.last();
  ws.open();

  // As the README shows it.
  assert.throws(
    () => chat.send.post({ user: "ann", text: "hi", tags: ["go", "Go!"] }),
    (e: unknown) => e instanceof EncodeError && String(e) === 'EncodeError: "post" not sent: tags[1]: "Go!" does not match (pattern ^[a-z0-9-]+$)',
  );
  assert.throws(() => chat.send.post({ user: "", text: "hi", tags: [] }), /user: shorter than 1 character \(minLength 1\)/);
  chat.send.post({ user: "ann", text: "😀".repeat(5000), tags: ["go"] });
  chat.send.chat("x".repeat(10000)); // chat has no constraints
  assert.equal(ws.sent.length, 2);

  ws.receiveJSON({ name: "post", message: { user: "srv", text: "é".repeat(5001), tags: [] }, isAmbiorix: true });
  ws.receiveJSON({ name: "post", message: { user: "srv", text: "fine", tags: "solo" }, isAmbiorix: true });
  assert.deepEqual(posts, ["fine"]);
  assert.deepEqual(errors, ['message "post": invalid payload: text: longer than 5000 characters (maxLength 5000)']);
  chat.close();
});
