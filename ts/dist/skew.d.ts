/**
 * The client's half of the version-skew handshake (docs/DESIGN.md, "Schema
 * evolution and version skew"). A client built from a schema announces that
 * schema's fingerprint in the query of the WebSocket URL; a server built
 * with ambigen answers, as the first message on the socket, whether it still
 * serves that schema ("compatible") or not ("reload"). An Ambiorix R server
 * ignores the query and answers nothing, which leaves the status "unknown".
 *
 * The names are copies of the generator's (cmd/ambigen/internal/spec,
 * reserved.go); a Go test in cmd/ambigen ties them together.
 *
 * @module
 */
/** Message names that start with this belong to ambigen; the client never hands them to a handler. */
export declare const reservedPrefix = "ambigen:";
/** The name of the server's verdict. */
export declare const handshakeMessage = "ambigen:version";
/** The query parameter a client announces its schema's fingerprint in. */
export declare const handshakeQuery = "ambigen-fingerprint";
/**
 * What the server said of the client's schema: "unknown" while there is no
 * verdict (none announced, an R server, a server from before the handshake,
 * or not arrived yet), "compatible" when the server still serves it, and
 * "reload" when it does not, so the page should be reloaded to get the
 * current client.
 */
export type VersionStatus = "unknown" | "compatible" | "reload";
/** The version verdict of a connection. */
export interface Version {
    readonly status: VersionStatus;
    /** The server's schema fingerprint, as its verdict named it; "" without a verdict. */
    readonly fingerprint: string;
}
/** The Version of a connection without a verdict. */
export declare const unknownVersion: Version;
/**
 * Adds the announcement to url's query, replacing an earlier value and
 * keeping the rest of url as written (a relative URL included).
 */
export declare function withFingerprint(url: string, fingerprint: string): string;
/**
 * Reads a verdict's message. A status this client does not know is no
 * verdict (undefined), so that later servers can add statuses; other keys
 * are ignored.
 */
export declare function readVerdict(message: unknown): Version | undefined;
