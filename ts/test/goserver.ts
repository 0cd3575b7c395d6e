// Starts the Go test server (test/server, on the real runtime package) for
// the integration tests, and stops it the way a deployment would: SIGTERM,
// which makes it close every socket with 1001.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** ts/, whether this file runs from test/ (source) or build/test/ (compiled). */
export const tsDir = resolve(fileURLToPath(new URL(".", import.meta.url)), import.meta.url.includes("/build/") ? "../.." : "..");
export const repoRoot = resolve(tsDir, "..");

/** Builds test/server with the go command and returns the binary's path. */
export function buildServer(): string {
  const bin = join(tsDir, "build", "ambigen-test-server");
  execFileSync("go", ["build", "-o", bin, "./test/server"], { cwd: tsDir, stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
  return bin;
}

export class GoServer {
  private readonly proc: ChildProcess;
  readonly addr: string;
  private readonly exited: Promise<void>;

  private constructor(proc: ChildProcess, addr: string, exited: Promise<void>) {
    this.proc = proc;
    this.addr = addr;
    this.exited = exited;
  }

  get url(): string {
    return `ws://${this.addr}/`;
  }

  /** Starts the server on addr (a free loopback port by default) and waits until it listens. */
  static start(bin: string, addr = "127.0.0.1:0"): Promise<GoServer> {
    const proc = spawn(bin, ["-addr", addr], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill("SIGKILL");
        reject(new Error("the Go test server did not start within 10 s"));
      }, 10_000);
      proc.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the Go test server exited early (code ${String(proc.exitCode)})`));
      });
      const lines = createInterface({ input: proc.stdout! });
      lines.once("line", (line) => {
        clearTimeout(timer);
        const m = /^listening (\S+)$/.exec(line);
        if (!m) {
          proc.kill("SIGKILL");
          reject(new Error(`unexpected first line from the Go test server: ${line}`));
          return;
        }
        resolve(new GoServer(proc, m[1]!, exited));
      });
    });
  }

  /** SIGTERM (a graceful shutdown), then SIGKILL if it has not exited within 5 s; or SIGKILL at once (a crash). */
  async stop(signal: "SIGTERM" | "SIGKILL" = "SIGTERM"): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}
