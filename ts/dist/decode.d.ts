/**
 * Payload decoders: functions that take an incoming payload as JSON.parse
 * left it and return it as its declared type, or throw a PayloadError that
 * says where and what is wrong. Generated code composes them, one decode
 * function per schema type; the client runs them before any handler or call
 * sees a payload.
 *
 * They accept what an R (Ambiorix) peer writes for a value, as the Go
 * runtime's codecs do, and hand back the declared shape:
 * - a single value where a list is expected is a one-element list (R
 *   unboxes length-1 vectors: `["r"]` arrives as `"r"`);
 * - an integer may come as a decimal string (R writes integers outside
 *   int32 so: `"3000000000"`); it must then be a safe integer;
 * - an empty array where a map is expected is an empty map (R writes an
 *   empty named list as `[]`).
 * A whole double written as `100.0` needs nothing: JSON.parse makes it 100.
 * Error texts use the Go runtime's words, so both sides report a bad
 * payload identically.
 *
 * @module
 */
/**
 * Reads an incoming payload at path ("" for the root, "tags[2]" deeper) and
 * returns it as T, or throws, preferably a PayloadError.
 */
export type Decoder<T = unknown> = (value: unknown, path?: string) => T;
/** A payload that does not fit its type: path is where ("" for the whole payload), problem what. */
export declare class PayloadError extends Error {
    readonly path: string;
    readonly problem: string;
    constructor(path: string, problem: string);
}
/** Reads a string. */
export declare function readString(v: unknown, path?: string): string;
/** Reads a bool: true or false, nothing truthy. */
export declare function readBool(v: unknown, path?: string): boolean;
/**
 * Reads an int: a number that is an integer, or a decimal string (R writes
 * integers outside int32 as strings) whose value is a safe integer, since a
 * JavaScript number holds no larger integer exactly.
 */
export declare function readInt(v: unknown, path?: string): number;
/** Reads a float: a finite number (R's NA arrives as null and is refused, as in Go). */
export declare function readFloat(v: unknown, path?: string): number;
/** Reads a timestamp: an RFC 3339 string, kept as the string it is. */
export declare function readTimestamp(v: unknown, path?: string): string;
/** Reads bytes: a standard base64 string with padding, kept as the string it is. */
export declare function readBytes(v: unknown, path?: string): string;
/** Reads any: every JSON value, unchanged. */
export declare function readAny(v: unknown, _path?: string): unknown;
/**
 * Reads list<T>. An array is read element by element; any other value is
 * read as the only element of a one-element list, because R unboxes
 * length-1 vectors when it writes JSON.
 */
export declare function readList<T>(elem: Decoder<T>): Decoder<T[]>;
/**
 * Reads map<T>: an object whose values are T. An empty array is an empty
 * map, because R writes an empty named list as [].
 */
export declare function readMap<T>(elem: Decoder<T>): Decoder<Record<string, T>>;
/** Reads a JSON object, for a decoder that then reads its fields. */
export declare function readObject(v: unknown, path?: string): Record<string, unknown>;
/** Reads the required field key of the object o at path. */
export declare function readField<T>(o: Record<string, unknown>, key: string, path: string, dec: Decoder<T>): T;
/**
 * Reads the optional field key of the object o at path into out, where it
 * is set only when present, so that an absent field stays absent. null is
 * absent too, as in the Go runtime (R writes a missing value as null).
 */
export declare function readOptional<O extends object, K extends keyof O & string>(o: Record<string, unknown>, key: K, path: string, dec: Decoder<Exclude<O[K], undefined>>, out: O): void;
/**
 * Reads a value of an enum whose values are the object values (generated
 * enums are `as const` objects that map each value to itself).
 */
export declare function readEnum<T extends string>(v: unknown, path: string, values: Readonly<Record<string, T>>): T;
