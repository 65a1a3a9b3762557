// skiff server under load, with the host executor: single-step workflows created over REST.
//   npx tsx --expose-gc bench/server-throughput.ts [--n 10000] [--latency 1:50,10:200,100:500]
// Prints: completed workflows per minute at 100 concurrent clients; submit -> step running latency p50/p99
// at each concurrency; the server's memory once it holds every completed workflow.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig } from "../src/config/index.js";
import { startServer, type SkiffServer } from "../src/server/index.js";
import { shellWorkflowBody } from "../test/integration/server/harness.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const total = Number(arg("n", "10000"));
const latencyPlan = arg("latency", "1:50,10:200,100:500")
  .split(",")
  .map((p) => p.split(":").map(Number) as [number, number]);

const state = mkdtempSync(join(tmpdir(), "skiff-bench-server-"));
const marks = join(state, "marks.txt");
const config = defaultConfig();
config.executor = "host";
config.host.sandbox = "none";
config.stateDir = state;
process.removeAllListeners("warning");
process.on("warning", () => undefined);

/** A single-step workflow whose step notes the time it started (ns since the epoch). */
const body = (name: string) => shellWorkflowBody(name, `echo ${name} $(date +%s%N) >> ${marks}`);

async function submitAll(server: SkiffServer, names: string[], clients: number, sent: Map<string, bigint>) {
  let next = 0;
  const client = async () => {
    for (let i = next++; i < names.length; i = next++) {
      const name = names[i]!;
      sent.set(name, process.hrtime.bigint() + offset);
      const res = await fetch(`${server.url}/api/v1/workflows/default`, { method: "POST", body: body(name) });
      if (res.status !== 200) throw new Error(`create ${name}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
}

async function settle(server: SkiffServer) {
  while (server.runner.running > 0) await new Promise((r) => setTimeout(r, 50));
}

// hrtime -> epoch ns, to compare with the steps' `date +%s%N`.
const offset = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;

const server = await startServer({
  config,
  authMode: "server",
  port: 0,
  workspace: state,
  log: () => undefined,
});
try {
  const results: Record<string, unknown> = {};
  for (const [clients, count] of latencyPlan) {
    const names = Array.from({ length: count }, (_, i) => `lat-${clients}-${i}`);
    const sent = new Map<string, bigint>();
    await submitAll(server, names, clients, sent);
    await settle(server);
    const started = new Map(
      readFileSync(marks, "utf8")
        .split("\n")
        .filter((l) => l.startsWith(`lat-${clients}-`))
        .map((l) => l.split(" ") as [string, string])
        .map(([n, t]) => [n, BigInt(t)]),
    );
    const ms = names.map((n) => Number(started.get(n)! - sent.get(n)!) / 1e6).sort((a, b) => a - b);
    results[`latency_c${clients}`] = {
      n: count,
      p50ms: +quantile(ms, 0.5).toFixed(1),
      p99ms: +quantile(ms, 0.99).toFixed(1),
    };
    console.log(
      `submit -> step running, ${clients} client(s), ${count} workflows: p50 ${quantile(ms, 0.5).toFixed(1)} ms, p99 ${quantile(ms, 0.99).toFixed(1)} ms`,
    );
  }

  const names = Array.from({ length: total }, (_, i) => `tp-${i}`);
  const t0 = performance.now();
  await submitAll(server, names, 100, new Map());
  await settle(server);
  const seconds = (performance.now() - t0) / 1000;
  const list = (await (
    await fetch(`${server.url}/api/v1/workflows/default?fields=items.status.phase`)
  ).json()) as {
    items: { status: { phase: string } }[];
  };
  const succeeded = list.items.filter((w) => w.status.phase === "Succeeded").length;
  const perMinute = (total / seconds) * 60;
  results.throughput = {
    n: total,
    seconds: +seconds.toFixed(1),
    perMinute: Math.round(perMinute),
    succeeded,
  };
  console.log(
    `${total} workflows over REST, 100 clients: ${seconds.toFixed(1)} s, ${Math.round(perMinute)} completed/min (${succeeded} Succeeded in the list of ${list.items.length})`,
  );

  (globalThis as { gc?: () => void }).gc?.();
  const mem = process.memoryUsage();
  results.memory = {
    workflows: list.items.length,
    rssMB: Math.round(mem.rss / 2 ** 20),
    heapUsedMB: Math.round(mem.heapUsed / 2 ** 20),
  };
  console.log(
    `server holding ${list.items.length} completed workflows: rss ${Math.round(mem.rss / 2 ** 20)} MB, heap used ${Math.round(mem.heapUsed / 2 ** 20)} MB`,
  );
  console.log(JSON.stringify(results));
} finally {
  await server.close();
  rmSync(state, { recursive: true, force: true });
}
