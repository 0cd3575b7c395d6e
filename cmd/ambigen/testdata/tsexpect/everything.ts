// Uses of the generated client for testdata/cases/everything: the lines
// without a marker must type-check, each line after @ts-expect-error must not.
import { connect, decodeEverything, decodeLevel, descriptor, Level, type Everything, type Tree } from "./schema.js";

export async function uses(): Promise<void> {
  const c = connect({ url: "ws://127.0.0.1:1/" });
  c.send.blobs(["aGk="]);
  c.send["1"](true);
  c.send.ping({ at: "2024-01-02T03:04:05Z" });
  c.on.scores((m) => {
    const n: number | undefined = m["x"];
    void n;
  });
  c.on["onearg-ran"]((m: unknown) => void m);
  c.on.tree((t: Tree) => void t.children.length);
  const e: Everything = await c.call.lookup({ keys: ["a"], deep: { k: [{ children: [] }] } }, { timeout: 2000 });
  const lvl: "low" | "mid-range" | "high" | "2x" = e.level;
  void lvl;
  c.handle.ask((l) => [l, Level.high]);
  await c.call.empty({});
  const decoded: Everything = decodeEverything(JSON.parse("{}"));
  const deeper: Everything = decodeEverything(JSON.parse("{}"), "items[0]");
  void decoded, deeper;
  void descriptor.decoders.message["tree"];

  // @ts-expect-error scores goes from the server to the client only
  c.send.scores({ x: 1 });
  // @ts-expect-error onearg-ran is not something the client sends
  c.send["onearg-ran"](1);
  // @ts-expect-error blobs goes from the client to the server only
  c.on.blobs(() => undefined);
  // @ts-expect-error a tree is not a string
  c.send.tree("x");
  // @ts-expect-error the bool payload of "1" is not a number
  c.send["1"](1);
  // @ts-expect-error lookup's request needs deep
  await c.call.lookup({ keys: [] });
  // @ts-expect-error ask is called by the server; the client handles it
  await c.call.ask("low");
  // @ts-expect-error ask's reply is a list of levels
  c.handle.ask(() => "low");
  // @ts-expect-error "medium" is not a Level
  const bad: Level = "medium";
  void bad;
  // @ts-expect-error a decoded Level is a Level, not a Tree
  const notTree: Tree = decodeLevel("low");
  void notTree;
  // @ts-expect-error no such message
  c.send.nope("x");
}
