// A separate Node process working on an embedded store, driven by the tests in embedded.test.ts.
// Usage: node --import tsx embedded-child.ts <mode> <json-args>
import { chmod, readdir, stat } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { isSkiffError } from "../../../runtime/errors/index.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import { openEmbeddedStore } from "../../../runtime/store/embedded/index.js";

const [mode, rawArgs] = process.argv.slice(2);
const args = JSON.parse(rawArgs ?? "{}") as Record<string, unknown>;

async function makeReadOnly(path: string): Promise<void> {
  const st = await stat(path);
  if (st.isDirectory()) {
    for (const e of await readdir(path)) await makeReadOnly(join(path, e));
    await chmod(path, 0o555);
  } else await chmod(path, 0o444);
}

async function readOnlyFolder(): Promise<void> {
  const dir = args.dir as string;
  const first = await openEmbeddedStore({ dir });
  await first.put(args.before as Workflow);
  await first.close();
  await makeReadOnly(dir);
  const store = await openEmbeddedStore({ dir });
  let error: unknown;
  try {
    await store.put(args.after as Workflow);
  } catch (e) {
    error = e;
  }
  const name = (args.before as Workflow).metadata.name!;
  const readBack = await store.get("default", name);
  const codeOf = (p: Promise<unknown>) =>
    p.then(
      () => "no error",
      (e: unknown) => (isSkiffError(e) ? e.code : String(e)),
    );
  const others = {
    logs: await codeOf(
      store.appendLogs("default", name, [
        { nodeId: "n", container: "main", stream: "stdout", time: "2024-01-01T00:00:00Z", text: "x" },
      ]),
    ),
    memo: await codeOf(
      store
        .memoCache()
        .save("c", "k", { nodeID: "n", outputs: {}, creationTimestamp: "", lastHitTimestamp: "" }),
    ),
    lease: await codeOf(store.acquireLease("default", name, "me", 1000, 0)),
  };
  await store.close();
  const err = isSkiffError(error)
    ? { skiff: true, code: error.code, message: error.message, hint: error.hint }
    : { skiff: false, message: String(error) };
  process.stdout.write(JSON.stringify({ error: error === undefined ? null : err, readBack, others }) + "\n");
}

async function leaseRace(): Promise<void> {
  const store = await openEmbeddedStore({ dir: args.dir as string });
  process.stdout.write("ready\n");
  while (!existsSync(args.go as string)) await new Promise((r) => setTimeout(r, 1));
  const count = args.count as number;
  const won: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    pending.push(
      store
        .acquireLease("default", `wf-${i}`, args.owner as string, args.ttlMs as number, args.now as number)
        .then((ok) => {
          if (ok) won.push(i);
        }),
    );
  }
  await Promise.all(pending);
  await store.close();
  process.stdout.write(JSON.stringify({ won: won.sort((a, b) => a - b), node: process.version }) + "\n");
}

if (mode === "readonly") await readOnlyFolder();
else if (mode === "lease-race") await leaseRace();
else throw new Error(`unknown mode ${mode}`);
