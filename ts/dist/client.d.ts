/**
 * The untyped core client: one WebSocket that speaks the Ambiorix envelope
 * (`{"name","message","isAmbiorix":true}`), plus the request/response
 * extension of docs/PROTOCOL.md part C. Everything else in this package (the
 * Ambiorix-compatible class, the typed client) is a thin layer over it.
 *
 * @module
 */
import type { ErrorCode } from "./codes.js";
import { type Decoder } from "./decode.js";
import { type Version } from "./skew.js";
/**
 * Where the connection is: not open yet (sends queue), open, closed for good,
 * or refused by the server (HTTP 401 or 403; see Client.refusal), after which
 * the client does not retry until start() is called again.
 */
export type Status = "connecting" | "open" | "closed" | "refused";
/** Why the server refused the connection: the HTTP status of its answer (401 or 403) and the reason it gave ("" for none). */
export interface Refusal {
    readonly status: number;
    readonly reason: string;
}
/** The query parameter that asks a server built with ambigen why an upgrade fails (runtime.ProbeQuery in Go). */
export declare const probeQuery = "ambigen-probe";
/** Which payloads a decoder reads: fire-and-forget messages, replies to our calls, or requests of the server's calls. */
export type DecoderKind = "message" | "reply" | "request";
/** Per-call options. */
export interface CallOptions {
    /** Milliseconds to wait for the reply, queued time included. Defaults to ClientOptions.callTimeout; Infinity waits forever. */
    timeout?: number;
    /** Aborting rejects the call with code "canceled"; a reply that comes later is dropped. */
    signal?: AbortSignal;
}
/**
 * The rejection of a call. code is "timeout", "closed" (the connection went
 * away before the reply), "canceled" (the signal aborted), "queue_full" (the
 * send queue overflowed), "invalid_reply" (the reply failed its decoder), or
 * the code of the peer's error reply ("invalid_argument", "unimplemented",
 * "internal", or one its handler chose); codes.ts lists them all, spelt as the
 * Go runtime spells them. Call handlers may throw one to choose the code of
 * their error reply.
 */
export declare class CallError extends Error {
    readonly code: ErrorCode;
    constructor(code: ErrorCode, message?: string);
}
/** An incoming payload that its decoder refused; it was not delivered. */
export declare class ValidationError extends Error {
    /** The envelope's name. */
    readonly messageName: string;
    readonly kind: DecoderKind;
    /** Where in the payload, as "tags[2]" or "user.name"; "" for the payload itself or when the decoder did not say. */
    readonly path: string;
    /** What is wrong, with its path: "tags[2]: expected string, got number". */
    readonly problem: string;
    constructor(messageName: string, kind: DecoderKind, problem: string, path?: string);
}
/** Reported through onerror when the send queue is full and a message is refused (see ClientOptions.queueLimit). */
export declare class QueueFullError extends Error {
    readonly messageName: string;
    constructor(messageName: string, limit: number);
}
/** Automatic reconnection. Delays grow as initialDelay * factor^attempt up to maxDelay, each shortened by a random share of up to jitter. */
export interface ReconnectOptions {
    /** Milliseconds before the first retry. Defaults to 500. */
    initialDelay?: number;
    /** Upper bound of a delay. Defaults to 30000. */
    maxDelay?: number;
    /** Growth per failed attempt. Defaults to 2. */
    factor?: number;
    /** Share of a delay (0..1) that is randomly taken off, so that many clients do not return at once. Defaults to 0.5. */
    jitter?: number;
    /** Consecutive failed attempts before giving up (status "closed"). Defaults to Infinity. */
    maxAttempts?: number;
}
/**
 * The part of the WebSocket API the client uses; the browser's WebSocket,
 * Node's global one and the `ws` package all fit. Event parameters are loose
 * on purpose: each implementation declares its own event classes.
 */
export interface WebSocketLike {
    readonly readyState: number;
    onopen: ((ev: any) => void) | null;
    onmessage: ((ev: any) => void) | null;
    onclose: ((ev: any) => void) | null;
    onerror: ((ev: any) => void) | null;
    send(data: string): void;
    close(code?: number, reason?: string): void;
}
/** A WebSocket class. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;
/** Options of a Client. Every field is optional. */
export interface ClientOptions {
    /** The server. Defaults to ws(s)://<page host>/ (wss when the page is https), like ambiorix.js; required outside a browser. */
    url?: string;
    /** Reconnect after the connection drops. On by default; false turns it off. */
    reconnect?: boolean | ReconnectOptions;
    /**
     * Messages held while the socket is not open. Defaults to 256. Overflow rule:
     * a full queue refuses the new message (earlier ones keep their order):
     * send returns false and onerror gets a QueueFullError; call rejects with
     * CallError code "queue_full".
     */
    queueLimit?: number;
    /** Default call timeout in milliseconds. Defaults to 10000. */
    callTimeout?: number;
    /** Milliseconds an attempt may stay unopened before it counts as failed (and a reconnect is scheduled). Defaults to 10000. */
    connectTimeout?: number;
    /**
     * Decoders for incoming payloads, by kind and message name. A decoder's
     * result is what handlers and call promises get; a payload it throws on is
     * not delivered. Names without a decoder get the payload as JSON.parse left it.
     */
    decoders?: Partial<Record<DecoderKind, Readonly<Record<string, Decoder>>>>;
    /** The WebSocket class to use. Defaults to globalThis.WebSocket. */
    WebSocket?: WebSocketConstructor;
    /**
     * After an attempt that failed before opening, ask the server why (a plain
     * HTTP request to the same URL with the query parameter ambigen-probe and
     * the page's cookies): a server built with ambigen answers 401 or 403 with
     * its reason when it refuses this client, which then stops retrying (status
     * "refused", onrefused). Browsers do not show a WebSocket's HTTP status, so
     * this is the only way to tell a refusal from a network failure. On by
     * default where fetch exists; false turns it off.
     */
    probe?: boolean;
    /**
     * The schema fingerprint to announce to the server (the query parameter
     * ambigen-fingerprint of the URL), whose verdict is then `version` and
     * `onversion`. The generated connect() sets its schema's; unset (or "")
     * announces nothing and leaves the URL as it is, as ambiorix.js does.
     */
    fingerprint?: string;
}
/** What onclose is told. */
export interface CloseInfo {
    /** The close code (1006 when the connection dropped without a close frame). */
    code: number;
    reason: string;
    /** Whether a reconnect is scheduled. */
    reconnecting: boolean;
}
/**
 * The delay before reconnect attempt number attempt (0 for the first), in
 * milliseconds: exponential growth capped at maxDelay, minus a random share of
 * up to jitter ("equal jitter"), so a crowd of clients spreads out after a
 * server restart instead of returning in lockstep.
 */
export declare function backoffDelay(attempt: number, options?: ReconnectOptions, random?: () => number): number;
/** ws(s)://<page host>/, the address ambiorix.js connects to. */
export declare function defaultURL(): string;
/**
 * Client is the untyped core. Register handlers with on/handle at any time:
 * the socket opens asynchronously, so handlers added in the same turn as
 * start() see every message. Sends before the socket opens (or while it
 * reconnects) are queued; calls in flight when it drops reject with "closed".
 * Nothing it receives makes it throw: frames that are not JSON objects or
 * whose isAmbiorix is not true are ignored, handler exceptions go to onerror.
 */
export declare class Client {
    /** Called each time the socket opens (after the queue is flushed). */
    onopen: (() => void) | null;
    /** Called each time the socket closes. */
    onclose: ((info: CloseInfo) => void) | null;
    /** Handler exceptions, payloads a decoder refused, queue overflow, socket errors. Without a hook they go to console.error. */
    onerror: ((err: Error) => void) | null;
    /**
     * Called when the server's version verdict arrives: on each connection to a
     * server built with ambigen, before any other message of that connection.
     * On "reload", a page would ask its user to reload; the client keeps
     * working either way. Never called against an R server, which sends none.
     */
    onversion: ((version: Version) => void) | null;
    /**
     * Called when the server refused the connection (HTTP 401 or 403, from its
     * authentication or its Origin check): the status is then "refused", queued
     * messages are dropped and calls rejected with "closed", and the client stops
     * until start() is called again (after the user logged in, say).
     */
    onrefused: ((refusal: Refusal) => void) | null;
    private readonly options;
    private readonly reconnectOptions;
    private readonly queueLimit;
    private readonly callTimeout;
    private readonly connectTimeout;
    private connectTimer;
    private socket;
    private state;
    private started;
    private attempts;
    private retryTimer;
    private queue;
    private readonly listeners;
    private readonly anyListeners;
    private readonly callHandlers;
    private readonly decoders;
    private readonly pending;
    private nextId;
    private verdict;
    private refused;
    private epoch;
    constructor(options?: ClientOptions);
    /** "connecting" until the socket opens (and while reconnecting), "open", or "closed" after close() or giving up. */
    get status(): Status;
    /**
     * The version verdict of the current connection: status "unknown" until the
     * server's verdict arrives (and for good against a server that sends none),
     * then "compatible" or "reload". Each new connection starts unknown again,
     * since it may reach a server that was redeployed meanwhile; while the
     * client reconnects it keeps the last connection's verdict.
     */
    get version(): Version;
    /** Why the server refused the connection while the status is "refused", else null. */
    get refusal(): Refusal | null;
    /** Opens the connection. Calling it again while connected does nothing; after close() it connects anew. */
    start(): void;
    /** Closes the connection for good (until start() is called again): no reconnect, queued messages dropped, unanswered calls rejected with "closed". */
    close(code?: number, reason?: string): void;
    private dropSocket;
    /**
     * Sends a fire-and-forget message, or queues it while the socket is not
     * open. It returns false when the message was refused: the client is closed,
     * or the queue is full (then onerror gets a QueueFullError).
     */
    send(name: string, message?: unknown): boolean;
    /** Adds a listener for messages named name; it returns a function that removes it. */
    on(name: string, fn: (message: unknown) => void): () => void;
    /** Adds a listener for every delivered message (decoded); it returns a function that removes it. */
    onAny(fn: (name: string, message: unknown) => void): () => void;
    /**
     * Answers the peer's calls named name. The handler's return value (or the
     * value its promise resolves to) is the reply; a thrown CallError chooses the
     * error code, anything else thrown is "internal". The last registration wins;
     * undefined removes the handler (calls are then answered "unimplemented").
     */
    handle(name: string, fn: ((request: unknown) => unknown) | undefined): void;
    /** Sets (or with undefined removes) the decoder for incoming payloads of one kind and name. */
    setDecoder(name: string, decoder: Decoder | undefined, kind?: DecoderKind): void;
    /**
     * Calls the peer's handler for name and resolves with its reply. It rejects
     * with a CallError: the peer's error code, "timeout", "closed", "canceled",
     * "queue_full" or "invalid_reply". The reply is resolved as its decoder returns it.
     */
    call(name: string, message?: unknown, options?: CallOptions): Promise<unknown>;
    private write;
    private connect;
    private abandon;
    private handleOpen;
    private handleClose;
    private probe;
    private stopRefused;
    private emitClose;
    private handleFrame;
    private handleVerdict;
    private deliver;
    private handleReply;
    private answer;
    private decode;
    private finishCall;
    private failCalls;
    private run;
    private report;
}
