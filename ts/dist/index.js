/**
 * ambigen's TypeScript client for the Ambiorix WebSocket protocol: the untyped
 * core Client, the ambiorix.js-compatible Ambiorix class, and the typed layer
 * and payload decoders that generated code (ts/src/gen) builds on.
 *
 * @module
 */
export { CallError, Client, QueueFullError, ValidationError, defaultURL, probeQuery, } from "./client.js";
export { Ambiorix } from "./ambiorix.js";
export { codes, isKnownCode } from "./codes.js";
export { PayloadError, readAny, readBool, readBytes, readEnum, readField, readFloat, readInt, readList, readMap, readObject, readOptional, readString, readTimestamp, } from "./decode.js";
export { EncodeError, withRules } from "./constraints.js";
export { createTypedClient } from "./typed.js";
export {} from "./skew.js";
