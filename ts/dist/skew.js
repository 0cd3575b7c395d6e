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
export const reservedPrefix = "ambigen:";
/** The name of the server's verdict. */
export const handshakeMessage = "ambigen:version";
/** The query parameter a client announces its schema's fingerprint in. */
export const handshakeQuery = "ambigen-fingerprint";
/** The Version of a connection without a verdict. */
export const unknownVersion = Object.freeze({ status: "unknown", fingerprint: "" });
/**
 * Adds the announcement to url's query, replacing an earlier value and
 * keeping the rest of url as written (a relative URL included).
 */
export function withFingerprint(url, fingerprint) {
    // Path, query and fragment; the pattern matches any string.
    const [, path, query = "", fragment = ""] = /^([^?#]*)(?:\?([^#]*))?(.*)$/.exec(url);
    const kept = query.split("&").filter((kv) => kv !== "" && kv.split("=", 1)[0] !== handshakeQuery);
    kept.push(`${handshakeQuery}=${encodeURIComponent(fingerprint)}`);
    return `${path}?${kept.join("&")}${fragment}`;
}
/**
 * Reads a verdict's message. A status this client does not know is no
 * verdict (undefined), so that later servers can add statuses; other keys
 * are ignored.
 */
export function readVerdict(message) {
    if (typeof message !== "object" || message === null)
        return undefined;
    const m = message;
    if (m.status !== "compatible" && m.status !== "reload")
        return undefined;
    const fingerprint = typeof m.fingerprint === "string" && /^[0-9a-f]{32}$/.test(m.fingerprint) ? m.fingerprint : "";
    return { status: m.status, fingerprint };
}
