/**
 * Value constraints of a schema (lengths, bounds, patterns, item and entry
 * counts), checked by the generated decoders on what arrives and by the
 * typed client on what it sends. They mirror the Go runtime's rules
 * (runtime/constraints.go) word for word, so that a value is refused with
 * the same text on both sides:
 * `title: longer than 200 characters (maxLength 200)`.
 *
 * Lengths count Unicode code points, as JSON Schema and the Go runtime do,
 * not the UTF-16 units of `string.length`: "😀" is one character. Patterns
 * are read with the u flag, in the subset ambigen accepts (see the README);
 * they match anywhere unless anchored with ^ and $.
 *
 * @module
 */

import { PayloadError, type Decoder } from "./decode.js";

/** The constraints on one value, as generated code writes them; only the keys of the value's type appear. */
export interface Rules {
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly min?: number;
  readonly exclusiveMin?: number;
  readonly max?: number;
  readonly exclusiveMax?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minEntries?: number;
  readonly maxEntries?: number;
}

/** A check of one rule: the problem with v, or undefined when v meets it. */
type Check = (v: unknown) => string | undefined;

/**
 * Returns a decoder that reads as read does and then checks the value
 * against rules, throwing a PayloadError at the value's path for the first
 * rule it breaks. A type takes the rules of one group only (a string its
 * lengths and pattern, a number its bounds...), and within a group they are
 * checked in the order of the Go runtime: lengths before the pattern, lower
 * bounds before upper ones. The pattern is compiled here, once.
 */
export function withRules<T>(read: Decoder<T>, rules: Rules): Decoder<T> {
  const checks = compile(rules);
  return (v: unknown, path = ""): T => {
    const value = read(v, path);
    for (const check of checks) {
      const problem = check(value);
      if (problem !== undefined) throw new PayloadError(path, problem);
    }
    return value;
  };
}

const length = (v: unknown): number => codePoints(v as string);
const items = (v: unknown): number => (v as unknown[]).length;
const entries = (v: unknown): number => Object.keys(v as object).length;

// The count rules: key, whether it is a minimum, the words for a breach, and what is counted.
const counts: readonly (readonly [keyof Rules, boolean, string, string, string, (v: unknown) => number])[] = [
  ["minLength", true, "shorter", "character", "characters", length],
  ["maxLength", false, "longer", "character", "characters", length],
  ["minItems", true, "fewer", "item", "items", items],
  ["maxItems", false, "more", "item", "items", items],
  ["minEntries", true, "fewer", "entry", "entries", entries],
  ["maxEntries", false, "more", "entry", "entries", entries],
];

// The bound rules: key, when a value breaks it, and how that is said.
const bounds: readonly (readonly [keyof Rules, (v: number, b: number) => boolean, string])[] = [
  ["min", (v, b) => v < b, " is less than "],
  ["exclusiveMin", (v, b) => !(v > b), " is not more than "],
  ["max", (v, b) => v > b, " is more than "],
  ["exclusiveMax", (v, b) => !(v < b), " is not less than "],
];

function compile(r: Rules): Check[] {
  const out: Check[] = [];
  for (const [key, isMin, word, one, many, measure] of counts) {
    const n = r[key] as number | undefined;
    if (n === undefined) continue;
    const text = word + " than " + (n === 1 ? "1 " + one : n + " " + many) + " (" + key + " " + n + ")";
    out.push((v) => (isMin ? measure(v) < n : measure(v) > n) ? text : undefined);
  }
  const pattern = r.pattern;
  if (pattern !== undefined) {
    const re = new RegExp(pattern, "u");
    out.push((v) => (re.test(v as string) ? undefined : quoteInput(v as string) + " does not match (pattern " + pattern + ")"));
  }
  for (const [key, breaks, words] of bounds) {
    const b = r[key] as number | undefined;
    if (b !== undefined) out.push((v) => (breaks(v as number, b) ? String(v) + words + b + " (" + key + " " + b + ")" : undefined));
  }
  return out;
}

/** codePoints counts s in Unicode code points; a lone surrogate counts as one, as the U+FFFD it becomes on the wire. */
export function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++, n++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
  }
  return n;
}

/** How much of a peer's value an error text quotes, in UTF-8 bytes, as in the Go runtime. */
const maxQuoted = 64;

/**
 * quoteInput quotes s for an error text as the Go runtime does: in Go's
 * string syntax (strconv.Quote), cut to 64 UTF-8 bytes on a character
 * boundary with a note of the full length.
 */
export function quoteInput(s: string): string {
  let bytes = 0;
  let head = "";
  let cut = false;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const size = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (!cut && bytes + size > maxQuoted) cut = true;
    if (!cut) head += ch;
    bytes += size;
  }
  return cut ? goQuote(head) + "... (" + bytes + " bytes in all)" : goQuote(s);
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0");

/**
 * goQuote is Go's strconv.Quote: printable characters as they are, the
 * rest escaped. JSON.stringify does most of it; what Go writes otherwise
 * is put right: \a, \v and \xHH for control characters, and \uHHHH or
 * \UHHHHHHHH for the characters that are not printable (categories C and Z
 * but the space).
 */
function goQuote(s: string): string {
  return JSON.stringify(s)
    .replace(/\\(\\|u00([01][0-9a-f]))/g, (all: string, _: string, code?: string) =>
      code === undefined ? all : code === "07" ? "\\a" : code === "0b" ? "\\v" : "\\x" + code)
    .replace(/(?! )[\p{C}\p{Z}]/gu, (c) => {
      const n = c.codePointAt(0)!;
      return n < 0x80 ? "\\x" + hex(n, 2) : n < 0x10000 ? "\\u" + hex(n, 4) : "\\U" + hex(n, 8);
    });
}

/**
 * A value the typed client refused to send because it breaks a constraint
 * of the schema: nothing was sent. path is where in the value ("" for the
 * whole of it), problem what is wrong, in the words of a PayloadError.
 */
export class EncodeError extends Error {
  readonly messageName: string;
  readonly path: string;
  readonly problem: string;
  constructor(messageName: string, path: string, problem: string) {
    super(`"${messageName}" not sent: ` + (path === "" ? problem : path + ": " + problem));
    this.name = "EncodeError";
    this.messageName = messageName;
    this.path = path;
    this.problem = problem;
  }
}

/**
 * checkOutgoing runs check (a generated decoder) over a value about to be
 * sent as name, and turns the PayloadError it throws into an EncodeError.
 */
export function checkOutgoing(name: string, check: Decoder | undefined, value: unknown): void {
  if (check === undefined) return;
  try {
    check(value, "");
  } catch (err) {
    if (err instanceof PayloadError) throw new EncodeError(name, err.path, err.problem);
    throw err;
  }
}
