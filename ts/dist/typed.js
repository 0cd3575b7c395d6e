/**
 * The typed layer that generated code sits on: a Descriptor (names and
 * decoders, emitted by ambigen) plus a Schema type turn the untyped Client
 * into `chat.on.x`, `chat.send.x`, `chat.call.x` and `chat.handle.x`, each
 * checked by the compiler.
 *
 * @module
 */
import { Client } from "./client.js";
/**
 * Builds the typed client for a descriptor and starts connecting. Handlers
 * registered in the same turn see every message, since the socket opens later.
 */
export function createTypedClient(descriptor, options = {}) {
    // Decoders passed in options add to (or override, name by name) the descriptor's.
    const d = descriptor.decoders;
    const extra = options.decoders ?? {};
    // The schema's fingerprint is announced unless options name another.
    const fingerprint = options.fingerprint ?? descriptor.fingerprint;
    const client = new Client({
        ...options,
        ...(fingerprint === undefined ? {} : { fingerprint }),
        decoders: {
            message: { ...d.message, ...extra.message },
            reply: { ...d.reply, ...extra.reply },
            request: { ...d.request, ...extra.request },
        },
    });
    const table = (names, make) => {
        // A null prototype keeps message names such as "constructor" from meeting Object's own members.
        const out = Object.create(null);
        for (const name of names)
            out[name] = make(name);
        return Object.freeze(out);
    };
    const typed = {
        on: table(descriptor.serverToClient, (name) => (fn) => {
            client.on(name, fn);
        }),
        send: table(descriptor.clientToServer, (name) => (msg) => {
            client.send(name, msg);
        }),
        call: table(descriptor.clientCalls, (name) => (req, opts) => client.call(name, req, opts)),
        handle: table(descriptor.serverCalls, (name) => (fn) => client.handle(name, fn)),
        get status() {
            return client.status;
        },
        get version() {
            return client.version;
        },
        client,
        close() {
            client.close();
        },
    };
    client.start();
    return typed;
}
