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
/** A payload that does not fit its type: path is where ("" for the whole payload), problem what. */
export class PayloadError extends Error {
    constructor(path, problem) {
        super(path === "" ? problem : path + ": " + problem);
        this.name = "PayloadError";
        this.path = path;
        this.problem = problem;
    }
}
/** describe names a JSON value's kind the way the Go runtime does. */
function describe(v) {
    return v === null ? "null" : Array.isArray(v) ? "array" : typeof v === "boolean" ? "bool" : typeof v;
}
function mismatch(path, want, v) {
    return new PayloadError(path, "expected " + want + ", got " + describe(v));
}
const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** at extends path by one object key, as user.tags, or user["odd key"] when the key is not an identifier. */
function at(path, key) {
    if (!identifier.test(key))
        return path + "[" + JSON.stringify(key) + "]";
    return path === "" ? key : path + "." + key;
}
/** Reads a string. */
export function readString(v, path = "") {
    if (typeof v !== "string")
        throw mismatch(path, "string", v);
    return v;
}
/** Reads a bool: true or false, nothing truthy. */
export function readBool(v, path = "") {
    if (typeof v !== "boolean")
        throw mismatch(path, "bool", v);
    return v;
}
// What Go's strconv.ParseInt(s, 10, 64) accepts, which is what the Go runtime reads R's strings with.
const decimalInteger = /^[+-]?[0-9]+$/;
/**
 * Reads an int: a number that is an integer, or a decimal string (R writes
 * integers outside int32 as strings) whose value is a safe integer, since a
 * JavaScript number holds no larger integer exactly.
 */
export function readInt(v, path = "") {
    if (typeof v === "number") {
        if (!Number.isInteger(v))
            throw new PayloadError(path, "expected integer, got " + String(v));
        return v;
    }
    if (typeof v === "string") {
        if (!decimalInteger.test(v))
            throw new PayloadError(path, "expected integer, got string " + JSON.stringify(v));
        const n = Number(v);
        if (!Number.isSafeInteger(n)) {
            throw new PayloadError(path, "expected integer, got string " + JSON.stringify(v) + ", which is not a safe integer: a JavaScript number holds integers up to ±(2^53-1) exactly");
        }
        return n;
    }
    throw mismatch(path, "integer", v);
}
/** Reads a float: a finite number (R's NA arrives as null and is refused, as in Go). */
export function readFloat(v, path = "") {
    if (typeof v !== "number" || !Number.isFinite(v))
        throw mismatch(path, "number", v);
    return v;
}
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
/** Reads a timestamp: an RFC 3339 string, kept as the string it is. */
export function readTimestamp(v, path = "") {
    if (typeof v !== "string" || !rfc3339.test(v))
        throw mismatch(path, "RFC 3339 timestamp", v);
    return v;
}
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Reads bytes: a standard base64 string with padding, kept as the string it is. */
export function readBytes(v, path = "") {
    if (typeof v !== "string" || !base64.test(v))
        throw mismatch(path, "base64 string", v);
    return v;
}
/** Reads any: every JSON value, unchanged. */
export function readAny(v, _path = "") {
    return v;
}
/**
 * Reads list<T>. An array is read element by element; any other value is
 * read as the only element of a one-element list, because R unboxes
 * length-1 vectors when it writes JSON.
 */
export function readList(elem) {
    return (v, path = "") => {
        if (!Array.isArray(v)) {
            try {
                return [elem(v, path)];
            }
            catch (err) {
                // Not an element either. A problem deeper inside (a field of an
                // object) is reported where it is; one with the value itself says
                // that a list was expected first, as the Go runtime does.
                if (err instanceof PayloadError && err.path === path)
                    throw new PayloadError(path, "expected array: " + err.problem);
                throw err;
            }
        }
        const out = new Array(v.length);
        for (let i = 0; i < v.length; i++)
            out[i] = elem(v[i], path + "[" + i + "]");
        return out;
    };
}
/**
 * Reads map<T>: an object whose values are T. An empty array is an empty
 * map, because R writes an empty named list as [].
 */
export function readMap(elem) {
    return (v, path = "") => {
        if (Array.isArray(v) && v.length === 0)
            return {};
        const o = readObject(v, path);
        const out = {};
        for (const k of Object.keys(o))
            setOwn(out, k, elem(o[k], at(path, k)));
        return out;
    };
}
/** Reads a JSON object, for a decoder that then reads its fields. */
export function readObject(v, path = "") {
    if (typeof v !== "object" || v === null || Array.isArray(v))
        throw mismatch(path, "object", v);
    return v;
}
const hasOwn = Object.prototype.hasOwnProperty;
/** own returns o's own property key, so that a missing "toString" or "__proto__" is missing, not Object's. */
function own(o, key) {
    return hasOwn.call(o, key) ? o[key] : undefined;
}
/** setOwn defines key on o as a plain data property, "__proto__" included. */
function setOwn(o, key, value) {
    if (key === "__proto__")
        Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
    else
        o[key] = value;
}
/** Reads the required field key of the object o at path. */
export function readField(o, key, path, dec) {
    const v = own(o, key);
    if (v === undefined)
        throw new PayloadError(at(path, key), "required field is missing");
    return dec(v, at(path, key));
}
/**
 * Reads the optional field key of the object o at path into out, where it
 * is set only when present, so that an absent field stays absent. null is
 * absent too, as in the Go runtime (R writes a missing value as null).
 */
export function readOptional(o, key, path, dec, out) {
    const v = own(o, key);
    if (v !== undefined && v !== null)
        setOwn(out, key, dec(v, at(path, key)));
}
/**
 * Reads a value of an enum whose values are the object values (generated
 * enums are `as const` objects that map each value to itself).
 */
export function readEnum(v, path, values) {
    if (typeof v !== "string")
        throw mismatch(path, "string", v);
    if (own(values, v) !== v) {
        throw new PayloadError(path, JSON.stringify(v) + " is not one of " + Object.values(values).map((x) => JSON.stringify(x)).join(", "));
    }
    return v;
}
