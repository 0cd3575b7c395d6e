/**
 * The error codes of calls (docs/PROTOCOL.md part C), spelt as the Go runtime
 * spells them (runtime/codes.go); a Go test ties the two lists together.
 *
 * The first group travels in error replies: the runtimes answer
 * invalid_argument, unimplemented, internal and resource_exhausted
 * themselves, and a handler may throw any of them (or a string of its own)
 * in a CallError. The second group never travels: it is how the caller's own
 * side reports a call that got no reply.
 *
 * @module
 */
/** Every code either runtime knows, in the Go runtime's order. */
export declare const codes: readonly ["invalid_argument", "not_found", "already_exists", "permission_denied", "unauthenticated", "resource_exhausted", "failed_precondition", "aborted", "out_of_range", "unimplemented", "internal", "unavailable", "data_loss", "unknown", "timeout", "canceled", "closed", "queue_full", "invalid_reply"];
/** A code either runtime knows. */
export type KnownCode = (typeof codes)[number];
/**
 * The code of a CallError: a known code, or any other string a peer's
 * handler chose (which callers should treat as a failure with that name).
 * Editors still complete the known ones.
 */
export type ErrorCode = KnownCode | (string & {});
/** Whether code is one of the known codes. */
export declare function isKnownCode(code: string): code is KnownCode;
