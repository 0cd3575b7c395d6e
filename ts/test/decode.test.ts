// The payload decoders on their own, and the ones generated for schema/messages.yaml
// (src/gen/messages.ts): each lenient form an R peer writes comes out as the declared
// type, and every refusal names the path of the problem.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  PayloadError,
  readAny,
  readBool,
  readBytes,
  readEnum,
  readField,
  readFloat,
  readInt,
  readList,
  readMap,
  readObject,
  readOptional,
  readString,
  readTimestamp,
  type Decoder,
} from "../src/decode.js";
import { decodeChatMessage, decodeMood, descriptor } from "../src/gen/messages.js";

/** refuses asserts that dec throws a PayloadError with this path and text ("path: problem"). */
function refuses(dec: Decoder, value: unknown, path: string, message: string): void {
  assert.throws(
    () => dec(value),
    (err: unknown) => {
      assert.ok(err instanceof PayloadError, `threw ${String(err)}, not a PayloadError`);
      assert.equal(err.path, path);
      assert.equal(err.message, message);
      return true;
    },
  );
}

describe("R's forms are read as the declared type", () => {
  test("a single value where a list is expected is a one-element list", () => {
    assert.deepEqual(readList(readString)("r"), ["r"]);
    assert.deepEqual(readList(readInt)("3000000000"), [3000000000]);
    assert.deepEqual(readList(readList(readInt))(5), [[5]]);
    assert.deepEqual(readList(readAny)(null), [null]);
    assert.deepEqual(readList(readString)(JSON.parse('["r","ts"]')), ["r", "ts"]);
    assert.deepEqual(readList(readString)([]), []);
  });

  test("an int may be a decimal string, and a whole double is an int", () => {
    assert.equal(readInt("3000000000"), 3000000000);
    assert.equal(readInt("-42"), -42);
    assert.equal(readInt("+7"), 7);
    assert.equal(readInt("9007199254740991"), Number.MAX_SAFE_INTEGER);
    assert.equal(readInt(JSON.parse("100.0")), 100);
    assert.equal(readInt(-3), -3);
  });

  test("an empty array where a map is expected is an empty map", () => {
    assert.deepEqual(readMap(readFloat)([]), {});
    assert.deepEqual(readMap(readInt)({ a: "3000000000", b: 2 }), { a: 3000000000, b: 2 });
  });

  test("the generated decoders normalise what R writes", () => {
    // R unboxes the one-element tags list; the handler's ChatMessage has tags: string[].
    const unboxed = JSON.parse('{"user":"ann","text":"one tag","tags":"r","mood":"happy"}');
    assert.deepEqual(decodeChatMessage(unboxed), { user: "ann", text: "one tag", tags: ["r"], mood: "happy" });
    assert.deepEqual(descriptor.decoders.message["update"]!(JSON.parse('{"count":"3000000000"}')), { count: 3000000000 });
    assert.deepEqual(descriptor.decoders.message["update"]!(JSON.parse('{"count":100.0}')), { count: 100 });
    assert.equal(descriptor.decoders.reply["add"]!("12"), 12);
    assert.deepEqual(descriptor.decoders.request["confirm"]!({ question: "ok?" }), { question: "ok?" });
  });

  test("the payload given is left as it was; the decoded value is a new one", () => {
    const payload = JSON.parse('{"user":"ann","text":"hi","tags":"r","extra":1}');
    const copy = structuredClone(payload);
    const got = decodeChatMessage(payload);
    assert.deepEqual(payload, copy);
    // Like the Go runtime's structs, the decoded value holds the declared fields only.
    assert.deepEqual(got, { user: "ann", text: "hi", tags: ["r"] });
  });

  test("an absent optional field stays absent, and null is absent", () => {
    const got = decodeChatMessage({ user: "ann", text: "hi", tags: [], mood: null });
    assert.equal("sentAt" in got, false);
    assert.equal("mood" in got, false);
    refuses(decodeChatMessage, { user: null, text: "hi", tags: [] }, "user", "user: expected string, got null");
  });
});

describe("what does not fit is refused, with its path", () => {
  test("scalars", () => {
    refuses(readString, 1, "", "expected string, got number");
    refuses(readBool, "true", "", "expected bool, got string");
    refuses(readFloat, "1.5", "", "expected number, got string");
    refuses(readTimestamp, "yesterday", "", "expected RFC 3339 timestamp, got string");
    refuses(readBytes, "not base64!", "", "expected base64 string, got string");
    assert.equal(readTimestamp("2026-11-27T15:04:05Z"), "2026-11-27T15:04:05Z");
    assert.equal(readBytes("aGk="), "aGk=");
  });

  test("ints: not integers, not decimal, or beyond a safe integer", () => {
    refuses(readInt, 1.5, "", "expected integer, got 1.5");
    refuses(readInt, "1.5", "", 'expected integer, got string "1.5"');
    refuses(readInt, "", "", 'expected integer, got string ""');
    refuses(readInt, " 7", "", 'expected integer, got string " 7"');
    refuses(readInt, true, "", "expected integer, got bool");
    refuses(
      readInt,
      "9007199254740993",
      "",
      'expected integer, got string "9007199254740993", which is not a safe integer: a JavaScript number holds integers up to ±(2^53-1) exactly',
    );
  });

  test("lists: an element's path, and a single value that is no element either", () => {
    const tags = (v: unknown) => readField(readObject(v), "tags", "", readList(readString));
    refuses(tags, { tags: ["a", "b", 3] }, "tags[2]", "tags[2]: expected string, got number");
    refuses(tags, { tags: 3 }, "tags", "tags: expected array: expected string, got number");
    refuses(readList(readList(readInt)), [[1], [2, "x"]], "[1][1]", '[1][1]: expected integer, got string "x"');
  });

  test("an unboxed object keeps the path inside it", () => {
    const tree: Decoder<{ label: string }> = (v, path = "") => ({ label: readField(readObject(v, path), "label", path, readString) });
    refuses(readList(tree), { label: 1 }, "label", "label: expected string, got number");
    refuses(readList(tree), "leaf", "", "expected array: expected object, got string");
  });

  test("maps: a non-empty array, and keys in paths", () => {
    refuses(readMap(readInt), [1], "", "expected object, got array");
    refuses(readMap(readInt), { a: 1, "odd key": "x" }, '["odd key"]', '["odd key"]: expected integer, got string "x"');
  });

  test("objects: missing fields, and names that Object.prototype has are not fields", () => {
    refuses(decodeChatMessage, { text: "hi", tags: [] }, "user", "user: required field is missing");
    refuses(decodeChatMessage, [], "", "expected object, got array");
    const dec = (v: unknown) => readField(readObject(v), "toString", "", readAny);
    refuses(dec, {}, "toString", "toString: required field is missing");
    const out: { constructor?: unknown } = {};
    readOptional(readObject({}), "constructor", "", readAny, out);
    assert.equal(Object.prototype.hasOwnProperty.call(out, "constructor"), false);
  });

  test("a __proto__ key is data, not a prototype", () => {
    const got = readMap(readInt)(JSON.parse('{"__proto__":1,"a":2}'));
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.deepEqual(Object.keys(got), ["__proto__", "a"]);
    assert.equal(Object.getOwnPropertyDescriptor(got, "__proto__")?.value, 1);
  });

  test("enums", () => {
    assert.equal(decodeMood("sad"), "sad");
    refuses(decodeMood, "angry", "", '"angry" is not one of "happy", "sad", "neutral"');
    refuses(decodeMood, 1, "", "expected string, got number");
    refuses(decodeMood, "toString", "", '"toString" is not one of "happy", "sad", "neutral"');
    const level = (v: unknown) => readEnum(v, "", { low: "low", high: "high" } as const);
    assert.equal(level("low"), "low");
    refuses((v) => decodeChatMessage(v), { user: "a", text: "b", tags: [], mood: "angry" }, "mood", 'mood: "angry" is not one of "happy", "sad", "neutral"');
  });
});
