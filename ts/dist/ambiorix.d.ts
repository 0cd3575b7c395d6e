/**
 * The Ambiorix-compatible API: a page written for Ambiorix's ambiorix.js
 * (static Ambiorix.send, new Ambiorix(), receive, start) works unchanged on
 * top of the core Client, and gains its queueing and reconnecting.
 *
 * @module
 */
import { Client, type ClientOptions } from "./client.js";
/**
 * Ambiorix mirrors the class of ambiorix.js. Unlike the original, the
 * connection opens on first use rather than at script load, static send before
 * the socket is open is queued instead of throwing, the socket reconnects, and
 * an instance's handlers are live from receive() on, so nothing that arrives
 * between the socket opening and start() is lost.
 */
export declare class Ambiorix {
    /**
     * Configures the shared connection (an explicit url for a page not served by
     * the socket's host, reconnect, queue size, hooks through the returned
     * Client). It must come before the first send or new Ambiorix(); later it throws.
     */
    static configure(options: ClientOptions): Client;
    /** The shared core client (status, onopen/onclose/onerror, call, close). The first use opens the connection. */
    static get client(): Client;
    /** Sends {name, message, isAmbiorix: true}; queued while the socket is not open. */
    static send(name: string, message?: unknown): void;
    private readonly dispatch;
    constructor();
    /** Sets the handler for messages named name; the last registration for a name wins. */
    receive(name: string, fn: (message: unknown) => void): void;
    /** Makes sure the connection is open or opening (reopening it after close()). Handlers already work before it. */
    start(): void;
}
