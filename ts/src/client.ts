/**
 * The untyped core client: one WebSocket that speaks the Ambiorix envelope
 * (`{"name","message","isAmbiorix":true}`), plus the request/response
 * extension of docs/PROTOCOL.md part C. Everything else in this package (the
 * Ambiorix-compatible class, the typed client) is a thin layer over it.
 *
 * @module
 */

import type { ErrorCode } from "./codes.js";
import { PayloadError, type Decoder } from "./decode.js";
import { handshakeMessage, readVerdict, reservedPrefix, unknownVersion, withFingerprint, type Version } from "./skew.js";

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
export const probeQuery = "ambigen-probe";

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
export class CallError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message?: string) {
    super(message || code);
    this.name = "CallError";
    this.code = code;
  }
}

/** An incoming payload that its decoder refused; it was not delivered. */
export class ValidationError extends Error {
  /** The envelope's name. */
  readonly messageName: string;
  readonly kind: DecoderKind;
  /** Where in the payload, as "tags[2]" or "user.name"; "" for the payload itself or when the decoder did not say. */
  readonly path: string;
  /** What is wrong, with its path: "tags[2]: expected string, got number". */
  readonly problem: string;
  constructor(messageName: string, kind: DecoderKind, problem: string, path = "") {
    super(`${kind} "${messageName}": invalid payload: ${problem}`);
    this.name = "ValidationError";
    this.messageName = messageName;
    this.kind = kind;
    this.path = path;
    this.problem = problem;
  }
}

/** Reported through onerror when the send queue is full and a message is refused (see ClientOptions.queueLimit). */
export class QueueFullError extends Error {
  readonly messageName: string;
  constructor(messageName: string, limit: number) {
    super(`send queue full (${limit} messages): "${messageName}" was not queued`);
    this.name = "QueueFullError";
    this.messageName = messageName;
  }
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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onopen: ((ev: any) => void) | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onmessage: ((ev: any) => void) | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  onclose: ((ev: any) => void) | null;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
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

type Listener = (message: unknown) => void;
type AnyListener = (name: string, message: unknown) => void;
type CallHandler = (request: unknown) => unknown;

interface Pending {
  name: string;
  resolve(value: unknown): void;
  reject(err: CallError): void;
  /** Written to the current socket; false while it waits in the queue. */
  sent: boolean;
  cleanup(): void;
}

interface Queued {
  data: string;
  name: string;
  /** Set for call requests, so that a call ending while queued takes its frame out. */
  id?: string;
}

const OPEN = 1;

const reconnectDefaults: Required<ReconnectOptions> = {
  initialDelay: 500,
  maxDelay: 30000,
  factor: 2,
  jitter: 0.5,
  maxAttempts: Infinity,
};

/**
 * The delay before reconnect attempt number attempt (0 for the first), in
 * milliseconds: exponential growth capped at maxDelay, minus a random share of
 * up to jitter ("equal jitter"), so a crowd of clients spreads out after a
 * server restart instead of returning in lockstep.
 */
export function backoffDelay(attempt: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const o = { ...reconnectDefaults, ...options };
  const base = Math.min(o.maxDelay, o.initialDelay * Math.pow(o.factor, attempt));
  const jitter = Math.min(1, Math.max(0, o.jitter));
  return base * (1 - jitter * random());
}

/** ws(s)://<page host>/, the address ambiorix.js connects to. */
export function defaultURL(): string {
  const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
  if (!loc || !loc.host) {
    throw new Error("ambigen: no page location to derive the WebSocket URL from; pass options.url");
  }
  return `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}/`;
}

/**
 * Client is the untyped core. Register handlers with on/handle at any time:
 * the socket opens asynchronously, so handlers added in the same turn as
 * start() see every message. Sends before the socket opens (or while it
 * reconnects) are queued; calls in flight when it drops reject with "closed".
 * Nothing it receives makes it throw: frames that are not JSON objects or
 * whose isAmbiorix is not true are ignored, handler exceptions go to onerror.
 */
export class Client {
  /** Called each time the socket opens (after the queue is flushed). */
  onopen: (() => void) | null = null;
  /** Called each time the socket closes. */
  onclose: ((info: CloseInfo) => void) | null = null;
  /** Handler exceptions, payloads a decoder refused, queue overflow, socket errors. Without a hook they go to console.error. */
  onerror: ((err: Error) => void) | null = null;
  /**
   * Called when the server's version verdict arrives: on each connection to a
   * server built with ambigen, before any other message of that connection.
   * On "reload", a page would ask its user to reload; the client keeps
   * working either way. Never called against an R server, which sends none.
   */
  onversion: ((version: Version) => void) | null = null;
  /**
   * Called when the server refused the connection (HTTP 401 or 403, from its
   * authentication or its Origin check): the status is then "refused", queued
   * messages are dropped and calls rejected with "closed", and the client stops
   * until start() is called again (after the user logged in, say).
   */
  onrefused: ((refusal: Refusal) => void) | null = null;

  private readonly options: ClientOptions;
  private readonly reconnectOptions: ReconnectOptions | null;
  private readonly queueLimit: number;
  private readonly callTimeout: number;
  private readonly connectTimeout: number;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  private socket: WebSocketLike | null = null;
  private state: Status = "connecting";
  private started = false;
  private attempts = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private queue: Queued[] = [];
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly anyListeners = new Set<AnyListener>();
  private readonly callHandlers = new Map<string, CallHandler>();
  private readonly decoders: Record<DecoderKind, Map<string, Decoder>> = {
    message: new Map(),
    reply: new Map(),
    request: new Map(),
  };
  private readonly pending = new Map<string, Pending>();
  private nextId = 0;
  private verdict: Version = unknownVersion;
  private refused: Refusal | null = null;
  // Bumped by start() and close(), so that a probe answering late is ignored.
  private epoch = 0;

  constructor(options: ClientOptions = {}) {
    this.options = options;
    const r = options.reconnect ?? true;
    this.reconnectOptions = r === false ? null : r === true ? {} : r;
    this.queueLimit = options.queueLimit ?? 256;
    this.callTimeout = options.callTimeout ?? 10000;
    this.connectTimeout = options.connectTimeout ?? 10000;
    for (const kind of ["message", "reply", "request"] as const) {
      for (const [name, d] of Object.entries(options.decoders?.[kind] ?? {})) {
        this.decoders[kind].set(name, d);
      }
    }
  }

  /** "connecting" until the socket opens (and while reconnecting), "open", or "closed" after close() or giving up. */
  get status(): Status {
    return this.state;
  }

  /**
   * The version verdict of the current connection: status "unknown" until the
   * server's verdict arrives (and for good against a server that sends none),
   * then "compatible" or "reload". Each new connection starts unknown again,
   * since it may reach a server that was redeployed meanwhile; while the
   * client reconnects it keeps the last connection's verdict.
   */
  get version(): Version {
    return this.verdict;
  }

  /** Why the server refused the connection while the status is "refused", else null. */
  get refusal(): Refusal | null {
    return this.state === "refused" ? this.refused : null;
  }

  /** Opens the connection. Calling it again while connected does nothing; after close() it connects anew. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.epoch++;
    this.state = "connecting";
    this.refused = null;
    this.attempts = 0;
    this.connect();
  }

  /** Closes the connection for good (until start() is called again): no reconnect, queued messages dropped, unanswered calls rejected with "closed". */
  close(code = 1000, reason = ""): void {
    this.started = false;
    this.epoch++;
    this.state = "closed";
    const had = this.dropSocket(code, reason);
    this.queue = [];
    this.failCalls(() => true, "closed", "client closed");
    if (had) this.emitClose({ code, reason, reconnecting: false });
  }

  // dropSocket stops the timers and closes the socket or connection attempt, if any, without
  // its events reaching the client; it says whether there was one.
  private dropSocket(code?: number, reason?: string): boolean {
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    this.retryTimer = undefined;
    const sock = this.socket;
    this.socket = null;
    if (!sock) return false;
    detach(sock);
    try {
      sock.close(code, reason);
    } catch {
      // Closing a socket that never opened may throw in some implementations; it is gone either way.
    }
    return true;
  }

  /**
   * Sends a fire-and-forget message, or queues it while the socket is not
   * open. It returns false when the message was refused: the client is closed,
   * or the queue is full (then onerror gets a QueueFullError).
   */
  send(name: string, message?: unknown): boolean {
    return this.write(name, JSON.stringify({ name, message, isAmbiorix: true })) === undefined;
  }

  /** Adds a listener for messages named name; it returns a function that removes it. */
  on(name: string, fn: (message: unknown) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  /** Adds a listener for every delivered message (decoded); it returns a function that removes it. */
  onAny(fn: (name: string, message: unknown) => void): () => void {
    this.anyListeners.add(fn);
    return () => {
      this.anyListeners.delete(fn);
    };
  }

  /**
   * Answers the peer's calls named name. The handler's return value (or the
   * value its promise resolves to) is the reply; a thrown CallError chooses the
   * error code, anything else thrown is "internal". The last registration wins;
   * undefined removes the handler (calls are then answered "unimplemented").
   */
  handle(name: string, fn: ((request: unknown) => unknown) | undefined): void {
    if (fn) this.callHandlers.set(name, fn);
    else this.callHandlers.delete(name);
  }

  /** Sets (or with undefined removes) the decoder for incoming payloads of one kind and name. */
  setDecoder(name: string, decoder: Decoder | undefined, kind: DecoderKind = "message"): void {
    if (decoder) this.decoders[kind].set(name, decoder);
    else this.decoders[kind].delete(name);
  }

  /**
   * Calls the peer's handler for name and resolves with its reply. It rejects
   * with a CallError: the peer's error code, "timeout", "closed", "canceled",
   * "queue_full" or "invalid_reply". The reply is resolved as its decoder returns it.
   */
  call(name: string, message?: unknown, options: CallOptions = {}): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(new CallError("canceled", "call canceled"));
        return;
      }
      const id = (++this.nextId).toString(36);
      // Serialised first, so that a payload JSON cannot hold (a cycle, a BigInt) rejects before anything is registered.
      const data = JSON.stringify({ name, message, isAmbiorix: true, id });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const onAbort = () => this.finishCall(id, new CallError("canceled", "call canceled"));
      const pending: Pending = {
        name,
        resolve,
        reject,
        sent: false,
        cleanup: () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
        },
      };
      this.pending.set(id, pending);
      const timeout = options.timeout ?? this.callTimeout;
      if (timeout !== Infinity) {
        timer = setTimeout(
          () => this.finishCall(id, new CallError("timeout", `call "${name}" timed out after ${timeout} ms`)),
          timeout,
        );
      }
      signal?.addEventListener("abort", onAbort);
      const refused = this.write(name, data, id);
      if (refused === "closed") this.finishCall(id, new CallError("closed", `call "${name}": client is closed`));
      if (refused === "queue_full") this.finishCall(id, new CallError("queue_full", `send queue full: call "${name}" was not sent`));
    });
  }

  // write sends data now or queues it (id marks a call request). It returns
  // why it refused, or undefined when the data was sent or queued.
  private write(name: string, data: string, id?: string): "closed" | "queue_full" | undefined {
    if (!this.started && (this.state === "closed" || this.state === "refused")) return "closed";
    const sock = this.socket;
    if (sock && this.state === "open" && sock.readyState === OPEN) {
      try {
        sock.send(data);
        if (id !== undefined) {
          const p = this.pending.get(id);
          if (p) p.sent = true;
        }
        return undefined;
      } catch {
        // The socket is going away under us; its close event follows, so the queue keeps this for the next connection.
      }
    }
    if (this.queue.length >= this.queueLimit) {
      this.report(new QueueFullError(name, this.queueLimit));
      return "queue_full";
    }
    this.queue.push(id === undefined ? { data, name } : { data, name, id });
    return undefined;
  }

  private connect(): void {
    let url: string;
    let sock: WebSocketLike;
    try {
      url = this.options.url ?? defaultURL();
      if (this.options.fingerprint) url = withFingerprint(url, this.options.fingerprint);
      const WS = this.options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
      if (!WS) throw new Error("ambigen: no WebSocket implementation; pass options.WebSocket");
      sock = new WS(url);
    } catch (err) {
      // A bad URL or a missing implementation does not get better by retrying.
      this.started = false;
      this.state = "closed";
      this.queue = [];
      this.failCalls(() => true, "closed", "cannot connect");
      this.report(asError(err));
      return;
    }
    this.socket = sock;
    sock.onopen = () => this.handleOpen(sock);
    sock.onmessage = (ev: { data?: unknown }) => this.handleFrame(sock, ev.data);
    sock.onerror = () => {
      if (this.socket !== sock) return;
      this.report(new Error(`ambigen: WebSocket error on ${url}`));
      // A failed handshake ends the attempt here: some implementations (Node 20's
      // WebSocket, on a refused connection) never follow the error with a close event.
      if (this.state !== "open") this.abandon(sock, "connection failed");
    };
    sock.onclose = (ev: { code?: number; reason?: string }) => this.handleClose(sock, ev.code ?? 1006, ev.reason ?? "");
    // Nor does every network say no: an attempt that hangs is given up after connectTimeout.
    this.connectTimer = setTimeout(() => {
      if (this.socket === sock && this.state !== "open") this.abandon(sock, "connect timeout");
    }, this.connectTimeout);
  }

  // abandon ends an attempt that did not open, as if the socket had closed abnormally.
  private abandon(sock: WebSocketLike, reason: string): void {
    detach(sock);
    try {
      sock.close();
    } catch {
      // Not open yet in some implementations; it is abandoned either way.
    }
    this.handleClose(sock, 1006, reason);
  }

  private handleOpen(sock: WebSocketLike): void {
    if (this.socket !== sock) return;
    clearTimeout(this.connectTimer);
    this.state = "open";
    this.attempts = 0;
    this.verdict = unknownVersion;
    const queued = this.queue;
    this.queue = [];
    for (let i = 0; i < queued.length; i++) {
      const q = queued[i]!;
      try {
        sock.send(q.data);
      } catch (err) {
        // The socket died under us: keep the rest for the next connection.
        this.queue = queued.slice(i);
        this.report(asError(err));
        return;
      }
      if (q.id !== undefined) {
        const p = this.pending.get(q.id);
        if (p) p.sent = true;
      }
    }
    if (this.onopen) {
      try {
        this.onopen();
      } catch (err) {
        this.report(asError(err));
      }
    }
  }

  private handleClose(sock: WebSocketLike, code: number, reason: string): void {
    if (this.socket !== sock) return;
    // An attempt that never opened may have been refused: ask why, while the retry waits.
    if (this.state !== "open" && this.started) this.probe();
    clearTimeout(this.connectTimer);
    detach(sock);
    this.socket = null;
    // Requests already written may never be answered; those still queued go out on the next connection.
    this.failCalls((p) => p.sent, "closed", "connection closed");
    const r = this.reconnectOptions;
    if (this.started && r && this.attempts < (r.maxAttempts ?? Infinity)) {
      this.state = "connecting";
      const delay = backoffDelay(this.attempts++, r);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.started) this.connect();
      }, delay);
      this.emitClose({ code, reason, reconnecting: true });
      return;
    }
    this.started = false;
    this.state = "closed";
    this.queue = [];
    this.failCalls(() => true, "closed", "connection closed");
    this.emitClose({ code, reason, reconnecting: false });
  }

  // probe asks the server whether it refuses this client (see ClientOptions.probe)
  // and, when it does, stops the client. It never throws.
  private probe(): void {
    const fetchFn = (globalThis as { fetch?: typeof fetch }).fetch;
    if (this.options.probe === false || !fetchFn) return;
    let target: URL;
    try {
      let url = this.options.url ?? defaultURL();
      if (this.options.fingerprint) url = withFingerprint(url, this.options.fingerprint);
      target = new URL(url);
    } catch {
      return;
    }
    if (target.protocol !== "ws:" && target.protocol !== "wss:") return;
    target.protocol = target.protocol === "wss:" ? "https:" : "http:";
    target.searchParams.set(probeQuery, "1");
    const epoch = this.epoch;
    const abort = typeof AbortController === "function" ? new AbortController() : undefined;
    const timer = setTimeout(() => abort?.abort(), this.connectTimeout);
    fetchFn(target.toString(), { credentials: "include", cache: "no-store", ...(abort ? { signal: abort.signal } : {}) })
      .then(async (res) => {
        if (res.status !== 401 && res.status !== 403) return;
        const reason = (await res.text()).slice(0, 200);
        if (this.epoch === epoch && this.started && this.state !== "open") this.stopRefused({ status: res.status, reason });
      })
      .catch(() => {
        // No answer (the server is down, or another origin without CORS): an ordinary failure, retried.
      })
      .finally(() => clearTimeout(timer));
  }

  // stopRefused stops a client that the server refuses.
  private stopRefused(refusal: Refusal): void {
    this.dropSocket();
    this.started = false;
    this.state = "refused";
    this.refused = refusal;
    this.queue = [];
    const why = `connection refused (HTTP ${refusal.status}${refusal.reason ? `: ${refusal.reason}` : ""})`;
    this.failCalls(() => true, "closed", why);
    if (this.onrefused) {
      const fn = this.onrefused;
      this.run(() => fn(refusal));
    }
  }

  private emitClose(info: CloseInfo): void {
    if (!this.onclose) return;
    try {
      this.onclose(info);
    } catch (err) {
      this.report(asError(err));
    }
  }

  private handleFrame(sock: WebSocketLike, data: unknown): void {
    if (this.socket !== sock || typeof data !== "string") return;
    let env: unknown;
    try {
      env = JSON.parse(data);
    } catch {
      return; // Not JSON: ignored, like any frame that is not an Ambiorix envelope.
    }
    if (typeof env !== "object" || env === null || Array.isArray(env)) return;
    const e = env as Record<string, unknown>;
    if (e.isAmbiorix !== true || typeof e.name !== "string") return;
    const name = e.name;
    const message = e.message === undefined ? null : e.message;
    if (typeof e.replyTo === "string") {
      this.handleReply(e.replyTo, message, e.error);
    } else if (typeof e.id === "string") {
      this.answer(sock, name, e.id, message);
    } else if (name.startsWith(reservedPrefix)) {
      // ambigen's own messages are never a listener's.
      if (name === handshakeMessage) this.handleVerdict(message);
    } else {
      this.deliver(name, message);
    }
  }

  private handleVerdict(message: unknown): void {
    const v = readVerdict(message);
    if (!v) return;
    this.verdict = v;
    if (this.onversion) {
      const fn = this.onversion;
      this.run(() => fn(v));
    }
  }

  private deliver(name: string, payload: unknown): void {
    const decoded = this.decode("message", name, payload);
    if (decoded instanceof ValidationError) {
      this.report(decoded);
      return;
    }
    const message = decoded.value;
    const set = this.listeners.get(name);
    if (set) {
      for (const fn of [...set]) this.run(() => fn(message));
    }
    for (const fn of [...this.anyListeners]) this.run(() => fn(name, message));
  }

  private handleReply(id: string, message: unknown, error: unknown): void {
    const p = this.pending.get(id);
    if (!p) return; // Late (timed out, canceled) or unknown: dropped, as part C says.
    if (error !== undefined && error !== null) {
      const e = typeof error === "object" ? (error as { code?: unknown; message?: unknown }) : {};
      const code = typeof e.code === "string" && e.code !== "" ? e.code : "unknown";
      this.finishCall(id, new CallError(code, typeof e.message === "string" ? e.message : ""));
      return;
    }
    const decoded = this.decode("reply", p.name, message);
    if (decoded instanceof ValidationError) {
      this.finishCall(id, new CallError("invalid_reply", decoded.message));
      return;
    }
    this.pending.delete(id);
    p.cleanup();
    p.resolve(decoded.value);
  }

  private answer(sock: WebSocketLike, name: string, id: string, request: unknown): void {
    const reply = (message: unknown, error?: { code: string; message: string }) => {
      // A reply belongs to the connection that carried the request; after a reconnect the caller has already failed.
      if (this.socket !== sock || sock.readyState !== OPEN) return;
      const env: Record<string, unknown> = { name, message: message === undefined ? null : message, isAmbiorix: true, replyTo: id };
      if (error) env.error = error;
      let text: string;
      try {
        text = JSON.stringify(env);
      } catch (err) {
        // The result does not serialise (a cycle, a BigInt): the caller still gets its one reply.
        if (!error) reply(null, { code: "internal", message: asError(err).message });
        return;
      }
      try {
        sock.send(text);
      } catch (err) {
        this.report(asError(err));
      }
    };
    // Nor are calls to ambigen's own names a handler's.
    const fn = name.startsWith(reservedPrefix) ? undefined : this.callHandlers.get(name);
    if (!fn) {
      reply(null, { code: "unimplemented", message: `no handler for "${name}"` });
      return;
    }
    const decoded = this.decode("request", name, request);
    if (decoded instanceof ValidationError) {
      reply(null, { code: "invalid_argument", message: decoded.problem });
      return;
    }
    const fail = (err: unknown) => {
      if (err instanceof CallError) reply(null, { code: err.code, message: err.message === err.code ? "" : err.message });
      else reply(null, { code: "internal", message: asError(err).message });
    };
    let result: unknown;
    try {
      result = fn(decoded.value);
    } catch (err) {
      fail(err);
      return;
    }
    // Synchronous handlers answer at once, so replies keep the order of their requests.
    if (isThenable(result)) result.then(reply, fail);
    else reply(result);
  }

  // decode runs the decoder for a payload, if any, and returns what it made
  // of it (boxed, since a payload may be any value) or why it was refused.
  // Whatever a decoder throws refuses the payload instead of breaking the frame loop.
  private decode(kind: DecoderKind, name: string, value: unknown): { value: unknown } | ValidationError {
    const d = this.decoders[kind].get(name);
    if (!d) return { value };
    try {
      return { value: d(value, "") };
    } catch (err) {
      if (err instanceof PayloadError) return new ValidationError(name, kind, err.message, err.path);
      return new ValidationError(name, kind, `decoder threw: ${asError(err).message}`);
    }
  }

  private finishCall(id: string, err: CallError): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    p.cleanup();
    if (!p.sent) this.queue = this.queue.filter((q) => q.id !== id);
    p.reject(err);
  }

  private failCalls(which: (p: Pending) => boolean, code: ErrorCode, text: string): void {
    for (const [id, p] of [...this.pending]) {
      if (which(p)) this.finishCall(id, new CallError(code, `call "${p.name}": ${text}`));
    }
  }

  private run(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.report(asError(err));
    }
  }

  private report(err: Error): void {
    if (this.onerror) {
      try {
        this.onerror(err);
        return;
      } catch (hookErr) {
        err = asError(hookErr);
      }
    }
    console.error(err);
  }
}

function detach(sock: WebSocketLike): void {
  sock.onopen = null;
  sock.onmessage = null;
  sock.onerror = null;
  sock.onclose = null;
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (typeof v === "object" || typeof v === "function") && v !== null && typeof (v as { then?: unknown }).then === "function";
}
