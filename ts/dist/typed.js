/**
 * The typed layer that generated code sits on: a Descriptor (names and
 * decoders, emitted by ambigen) plus a Schema type turn the untyped Client
 * into `chat.on.x`, `chat.send.x`, `chat.call.x` and `chat.handle.x`, each
 * checked by the compiler.
 *
 * @module
 */
import { Client } from "./client.js";
import { checkOutgoing } from "./constraints.js";
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
    // Names without constraints are sent as they are: a missing check costs one lookup when the table is built.
    const outgoing = descriptor.outgoing ?? {};
    const checkOf = (kind, name) => {
        const t = outgoing[kind];
        return t !== undefined && Object.prototype.hasOwnProperty.call(t, name) ? t[name] : undefined;
    };
    const typed = {
        on: table(descriptor.serverToClient, (name) => (fn) => {
            client.on(name, fn);
        }),
        send: table(descriptor.clientToServer, (name) => {
            const check = checkOf("message", name);
            return (msg) => {
                checkOutgoing(name, check, msg);
                client.send(name, msg);
            };
        }),
        call: table(descriptor.clientCalls, (name) => {
            const check = checkOf("request", name);
            return (req, opts) => {
                try {
                    checkOutgoing(name, check, req);
                }
                catch (err) {
                    return Promise.reject(err);
                }
                return client.call(name, req, opts);
            };
        }),
        handle: table(descriptor.serverCalls, (name) => {
            const check = checkOf("reply", name);
            return (fn) => {
                if (check === undefined)
                    return client.handle(name, fn);
                const checked = (reply) => {
                    checkOutgoing(name, check, reply);
                    return reply;
                };
                client.handle(name, (req) => {
                    const reply = fn(req);
                    return isThenable(reply) ? Promise.resolve(reply).then(checked) : checked(reply);
                });
            };
        }),
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
function isThenable(v) {
    return (typeof v === "object" || typeof v === "function") && v !== null && typeof v.then === "function";
}
