/**
 * ambigen's TypeScript client for the Ambiorix WebSocket protocol: the untyped
 * core Client, the ambiorix.js-compatible Ambiorix class, and the typed layer
 * and payload decoders that generated code (ts/src/gen) builds on.
 *
 * @module
 */
export { CallError, Client, QueueFullError, ValidationError, defaultURL, probeQuery, type CallOptions, type ClientOptions, type CloseInfo, type Refusal, type ReconnectOptions, type Status, type DecoderKind, type WebSocketConstructor, type WebSocketLike, } from "./client.js";
export { Ambiorix } from "./ambiorix.js";
export { codes, isKnownCode, type ErrorCode, type KnownCode } from "./codes.js";
export { PayloadError, readAny, readBool, readBytes, readEnum, readField, readFloat, readInt, readList, readMap, readObject, readOptional, readString, readTimestamp, type Decoder, } from "./decode.js";
export { EncodeError, withRules, type Rules } from "./constraints.js";
export { createTypedClient, type Descriptor, type Schema, type TypedClient } from "./typed.js";
export { type Version, type VersionStatus } from "./skew.js";
