/**
 * The typed layer that generated code sits on: a Descriptor (names and
 * decoders, emitted by ambigen) plus a Schema type turn the untyped Client
 * into `chat.on.x`, `chat.send.x`, `chat.call.x` and `chat.handle.x`, each
 * checked by the compiler.
 *
 * @module
 */
import { Client, type CallOptions, type ClientOptions, type Status } from "./client.js";
import type { Decoder } from "./decode.js";
import type { Version } from "./skew.js";
/** The runtime half of a schema: which names go which way, and the decoders that read what comes in into its declared type. */
export interface Descriptor {
    /** The schema's fingerprint, announced to the server (see ClientOptions.fingerprint). Generated descriptors always have it. */
    fingerprint?: string;
    /** Fire-and-forget names the client sends. */
    clientToServer: readonly string[];
    /** Fire-and-forget names the client receives. */
    serverToClient: readonly string[];
    /** Calls from the client to the server. */
    clientCalls: readonly string[];
    /** Calls from the server to the client. */
    serverCalls: readonly string[];
    decoders: {
        /** Incoming fire-and-forget payloads, by name. */
        message: Readonly<Record<string, Decoder>>;
        /** Replies of clientCalls, by name. */
        reply: Readonly<Record<string, Decoder>>;
        /** Requests of serverCalls, by name. */
        request: Readonly<Record<string, Decoder>>;
    };
    /**
     * Checks of what the client sends, for the names whose payloads have
     * value constraints (lengths, bounds, patterns...): the generated
     * decoder of the type, run over the value before it is sent. A value it
     * refuses is not sent; send throws, call rejects and a call handler's
     * reply is answered "internal", each with an EncodeError.
     */
    outgoing?: {
        /** Payloads of clientToServer messages, by name. */
        message?: Readonly<Record<string, Decoder>>;
        /** Requests of clientCalls, by name. */
        request?: Readonly<Record<string, Decoder>>;
        /** Replies to serverCalls, by name. */
        reply?: Readonly<Record<string, Decoder>>;
    };
}
/** The compile-time half of a schema. Generated code declares it with `type` so that it satisfies this. */
export interface Schema {
    clientToServer: Record<string, unknown>;
    serverToClient: Record<string, unknown>;
    clientCalls: Record<string, {
        request: unknown;
        reply: unknown;
    }>;
    serverCalls: Record<string, {
        request: unknown;
        reply: unknown;
    }>;
}
/** A client whose every name and payload is checked against the schema S. */
export interface TypedClient<S extends Schema> {
    readonly on: {
        [K in keyof S["serverToClient"]]: (fn: (msg: S["serverToClient"][K]) => void) => void;
    };
    readonly send: {
        [K in keyof S["clientToServer"]]: (msg: S["clientToServer"][K]) => void;
    };
    readonly call: {
        [K in keyof S["clientCalls"]]: (req: S["clientCalls"][K]["request"], opts?: CallOptions) => Promise<S["clientCalls"][K]["reply"]>;
    };
    readonly handle: {
        [K in keyof S["serverCalls"]]: (fn: (req: S["serverCalls"][K]["request"]) => S["serverCalls"][K]["reply"] | Promise<S["serverCalls"][K]["reply"]>) => void;
    };
    readonly status: Status;
    /** The server's version verdict on this connection (see Client.version); `client.onversion` is told when it arrives. */
    readonly version: Version;
    /** The untyped client underneath: hooks, start, close. */
    readonly client: Client;
    close(): void;
}
/**
 * Builds the typed client for a descriptor and starts connecting. Handlers
 * registered in the same turn see every message, since the socket opens later.
 */
export declare function createTypedClient<S extends Schema>(descriptor: Descriptor, options?: ClientOptions): TypedClient<S>;
