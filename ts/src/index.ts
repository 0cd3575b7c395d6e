/**
 * ambigen's TypeScript client for the Ambiorix WebSocket protocol: the untyped
 * core Client, the ambiorix.js-compatible Ambiorix class, and the typed layer
 * that generated code (ts/src/gen) builds on.
 *
 * @module
 */

export {
  CallError,
  Client,
  QueueFullError,
  ValidationError,
  defaultURL,
  type CallOptions,
  type ClientOptions,
  type CloseInfo,
  type ReconnectOptions,
  type Status,
  type Validator,
  type ValidatorKind,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./client.js";
export { Ambiorix } from "./ambiorix.js";
export { createTypedClient, type Descriptor, type Schema, type TypedClient } from "./typed.js";
