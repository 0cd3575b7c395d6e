// The TypeScript runtime API that generated code is written against
// (Contract B of the generator issue), as declarations only, so that the
// TypeScript goldens type-check without the runtime in ts/.
export type Status = "connecting" | "open" | "closed";
export type Validator = (value: unknown) => string | undefined;
export interface CallOptions {
  timeout?: number;
  signal?: AbortSignal;
}
export declare class CallError extends Error {
  readonly code: string;
}
export interface ClientOptions {
  url?: string;
  reconnect?: boolean | { minDelay?: number; maxDelay?: number };
}
export declare class Client {
  send(name: string, msg: unknown): void;
  on(name: string, fn: (msg: unknown) => void): void;
  close(): void;
}
export interface Descriptor {
  clientToServer: readonly string[];
  serverToClient: readonly string[];
  clientCalls: readonly string[];
  serverCalls: readonly string[];
  validators: {
    message: Readonly<Record<string, Validator>>;
    reply: Readonly<Record<string, Validator>>;
    request: Readonly<Record<string, Validator>>;
  };
}
export interface Schema {
  clientToServer: Record<string, unknown>;
  serverToClient: Record<string, unknown>;
  clientCalls: Record<string, { request: unknown; reply: unknown }>;
  serverCalls: Record<string, { request: unknown; reply: unknown }>;
}
export interface TypedClient<S extends Schema> {
  readonly on: { [K in keyof S["serverToClient"]]: (fn: (msg: S["serverToClient"][K]) => void) => void };
  readonly send: { [K in keyof S["clientToServer"]]: (msg: S["clientToServer"][K]) => void };
  readonly call: {
    [K in keyof S["clientCalls"]]: (req: S["clientCalls"][K]["request"], opts?: CallOptions) => Promise<S["clientCalls"][K]["reply"]>;
  };
  readonly handle: {
    [K in keyof S["serverCalls"]]: (
      fn: (req: S["serverCalls"][K]["request"]) => S["serverCalls"][K]["reply"] | Promise<S["serverCalls"][K]["reply"]>,
    ) => void;
  };
  readonly status: Status;
  readonly client: Client;
  close(): void;
}
export declare function createTypedClient<S extends Schema>(descriptor: Descriptor, options?: ClientOptions): TypedClient<S>;
