/**
 * The Ambiorix-compatible API: a page written for Ambiorix's ambiorix.js
 * (static Ambiorix.send, new Ambiorix(), receive, start) works unchanged on
 * top of the core Client, and gains its queueing and reconnecting.
 *
 * @module
 */
import { Client } from "./client.js";
// One connection per page, shared by every instance, as ambiorix.js has one global socket.
let shared;
let opened = false;
// sharedClient opens the connection on first use only, so that a client the
// page closed on purpose stays closed until start() is called again.
function sharedClient() {
    if (!shared)
        shared = new Client();
    if (!opened) {
        opened = true;
        shared.start();
    }
    return shared;
}
/**
 * Ambiorix mirrors the class of ambiorix.js. Unlike the original, the
 * connection opens on first use rather than at script load, static send before
 * the socket is open is queued instead of throwing, the socket reconnects, and
 * an instance's handlers are live from receive() on, so nothing that arrives
 * between the socket opening and start() is lost.
 */
export class Ambiorix {
    /**
     * Configures the shared connection (an explicit url for a page not served by
     * the socket's host, reconnect, queue size, hooks through the returned
     * Client). It must come before the first send or new Ambiorix(); later it throws.
     */
    static configure(options) {
        if (shared)
            throw new Error("ambigen: Ambiorix.configure must be called before the connection is first used");
        shared = new Client(options);
        return shared;
    }
    /** The shared core client (status, onopen/onclose/onerror, call, close). The first use opens the connection. */
    static get client() {
        return sharedClient();
    }
    /** Sends {name, message, isAmbiorix: true}; queued while the socket is not open. */
    static send(name, message) {
        sharedClient().send(name, message);
    }
    constructor() {
        this.dispatch = new Map();
        sharedClient().onAny((name, message) => {
            const fn = this.dispatch.get(name);
            if (fn)
                fn(message);
        });
    }
    /** Sets the handler for messages named name; the last registration for a name wins. */
    receive(name, fn) {
        this.dispatch.set(name, fn);
    }
    /** Makes sure the connection is open or opening (reopening it after close()). Handlers already work before it. */
    start() {
        sharedClient().start();
    }
}
