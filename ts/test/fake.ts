// A scripted stand-in for the browser's WebSocket, for unit tests that need
// to decide exactly when a socket opens, what arrives and when it drops.

export class FakeWebSocket {
  static readonly instances: FakeWebSocket[] = [];

  readonly url: string;
  readyState = 0;
  readonly sent: string[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  static last(): FakeWebSocket {
    const ws = FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
    if (!ws) throw new Error("no socket was created");
    return ws;
  }

  static reset(): void {
    FakeWebSocket.instances.length = 0;
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
    this.readyState = 3;
  }

  // Server side of the script.
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }

  receive(data: unknown): void {
    this.onmessage?.({ data });
  }

  receiveJSON(value: unknown): void {
    this.receive(JSON.stringify(value));
  }

  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code, reason });
  }

  sentJSON(): Record<string, unknown>[] {
    return this.sent.map((s) => JSON.parse(s) as Record<string, unknown>);
  }
}

/** Resolves after the pending promise callbacks and one timer turn have run. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls cond every few milliseconds until it holds or ms pass. */
export async function waitFor(cond: () => boolean, ms = 2000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await tick(2);
  }
}

/**
 * A stand-in for fetch on the fake host (fake.test), where the client's probe
 * after a failed handshake goes: answer decides the reply (undefined: a
 * network failure); other hosts reach the real fetch.
 */
export const fakeFetch: { answer: ((url: string) => { status: number; body: string } | undefined) | null; calls: string[] } = {
  answer: null,
  calls: [],
};

const realFetch = globalThis.fetch;
globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
  if (new URL(url).hostname !== "fake.test") return realFetch(input, init);
  fakeFetch.calls.push(url);
  const a = fakeFetch.answer?.(url);
  if (!a) throw new TypeError("fetch failed");
  return new Response(a.status === 204 ? null : a.body, { status: a.status });
}) as typeof fetch;
