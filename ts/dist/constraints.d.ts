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
import { type Decoder } from "./decode.js";
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
/**
 * Returns a decoder that reads as read does and then checks the value
 * against rules, throwing a PayloadError at the value's path for the first
 * rule it breaks. A type takes the rules of one group only (a string its
 * lengths and pattern, a number its bounds...), and within a group they are
 * checked in the order of the Go runtime: lengths before the pattern, lower
 * bounds before upper ones. The pattern is compiled here, once.
 */
export declare function withRules<T>(read: Decoder<T>, rules: Rules): Decoder<T>;
/** codePoints counts s in Unicode code points; a lone surrogate counts as one, as the U+FFFD it becomes on the wire. */
export declare function codePoints(s: string): number;
/**
 * quoteInput quotes s for an error text as the Go runtime does: in Go's
 * string syntax (strconv.Quote), cut to 64 UTF-8 bytes on a character
 * boundary with a note of the full length.
 */
export declare function quoteInput(s: string): string;
/**
 * A value the typed client refused to send because it breaks a constraint
 * of the schema: nothing was sent. path is where in the value ("" for the
 * whole of it), problem what is wrong, in the words of a PayloadError.
 */
export declare class EncodeError extends Error {
    readonly messageName: string;
    readonly path: string;
    readonly problem: string;
    constructor(messageName: string, path: string, problem: string);
}
/**
 * checkOutgoing runs check (a generated decoder) over a value about to be
 * sent as name, and turns the PayloadError it throws into an EncodeError.
 */
export declare function checkOutgoing(name: string, check: Decoder | undefined, value: unknown): void;
