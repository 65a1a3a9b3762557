// Runs the benchmarks and writes docs/performance.md. Every ratio compares runs made in this same
// invocation on this machine, so the figures do not depend on how fast the machine is.
//   npm run bench            (all)      npm run bench -- --quick   (smaller N, for a smoke run)
//   npm run bench -- --only-a   (only (a); the (b) and (c) sections of docs/performance.md are kept)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";

const quick = process.argv.includes("--quick");
const onlyA = process.argv.includes("--only-a");
const previous = existsSync("docs/performance.md") ? readFileSync("docs/performance.md", "utf8") : "";
const repeats = quick ? 1 : 3;
const hasBwrap = spawnSync("bwrap", ["--ro-bind", "/", "/", "true"]).status === 0;

interface Result {
  ms: number;
  maxRssMB: number;
  [k: string]: unknown;
}

function scenario(name: string, args: Record<string, unknown> = {}): Result {
  const out = execFileSync("npx", ["tsx", "bench/scenario.ts", name, JSON.stringify(args)], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = out.trim().split("\n").pop()!;
  return JSON.parse(line) as Result;
}

/** The median of `repeats` runs (by wall time). */
function median(name: string, args: Record<string, unknown> = {}): Result {
  const runs = Array.from({ length: repeats }, () => scenario(name, args)).sort((a, b) => a.ms - b.ms);
  return runs[Math.floor(runs.length / 2)]!;
}

const fmt = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;

const L = quick ? 5 : 10;
const W = quick ? 20 : 100;
const N = L * W;
const lines: string[] = [];
const log = (s: string) => {
  console.log(s);
  lines.push(s);
};

const make = median("make", { layers: L, width: W });
const spawnBase = median("spawn", { layers: L, width: W });
const flatMake = median("make", { layers: 1, width: N });
const flatSpawn = median("spawn", { layers: 1, width: N });
const spawnBwrap = hasBwrap ? median("spawn", { layers: L, width: W, bwrap: true }) : undefined;
const flatSpawnBwrap = hasBwrap ? median("spawn", { layers: 1, width: N, bwrap: true }) : undefined;
const rows: string[] = [];
const bwrapRows: string[] = [];
for (const sandbox of hasBwrap ? (["none", "bwrap"] as const) : (["none"] as const)) {
  const layered = median("layered", { layers: L, width: W, sandbox });
  const flat = median("flat", { n: N, parallelism: 2, sandbox });
  if (sandbox === "bwrap" && spawnBwrap && flatSpawnBwrap) {
    bwrapRows.push(
      `| layered ${L}x${W} | ${fmt(layered.ms)} | ${fmt(spawnBwrap.ms)} | ${ratio(layered.ms, spawnBwrap.ms)} |`,
      `| flat fan-out ${N} | ${fmt(flat.ms)} | ${fmt(flatSpawnBwrap.ms)} | ${ratio(flat.ms, flatSpawnBwrap.ms)} |`,
    );
  }
  rows.push(
    `| layered ${L}x${W} | ${sandbox} | ${fmt(layered.ms)} | ${fmt(make.ms)} | ${ratio(layered.ms, make.ms)} | ${fmt(spawnBase.ms)} | ${ratio(layered.ms, spawnBase.ms)} |`,
    `| flat fan-out ${N} | ${sandbox} | ${fmt(flat.ms)} | ${fmt(flatMake.ms)} | ${ratio(flat.ms, flatMake.ms)} | ${fmt(flatSpawn.ms)} | ${ratio(flat.ms, flatSpawn.ms)} |`,
  );
}

const seqSizes = quick ? [200, 500, 1000] : [1000, 5000, 10000];
const seq = onlyA
  ? []
  : seqSizes.map((n) => ({ n, r: scenario("flat", { n, parallelism: 50, sandbox: "none" }) }));
const latency = onlyA ? undefined : scenario("latency", { n: quick ? 50 : 200, sandbox: "none" });

log("# Performance");
log("");
log(
  `Measured by \`npm run bench${quick ? " -- --quick" : ""}${onlyA ? " -- --only-a" : ""}\`${onlyA ? " (section (a); (b) and (c) are from the last full run)" : ""} on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.`,
);
log("Every ratio compares runs of the same invocation on the same machine; each figure is the median of");
log(
  `${repeats} run(s). Steps run \`true\` with the host executor; ${hasBwrap ? "bubblewrap was present" : "bubblewrap was absent, so only unsandboxed rows"}.`,
);
log("");
log(`## (a) ${N} tasks, workflow parallelism 2`);
log("");
log("Baselines: `make -j2` running the same commands with the same dependencies (the physical floor), and a");
log("bare Node script that only spawns the same processes two at a time (the floor for any Node engine).");
log("Target: without the sandbox, Skiff at most 1.3x the bare-spawn script.");
log("");
log("| workload | sandbox | Skiff | make -j2 | Skiff / make | bare spawn | Skiff / spawn |");
log("|---|---|---|---|---|---|---|");
for (const r of rows) log(r);
log("");
if (bwrapRows.length) {
  log("With the sandbox, against a bare Node script spawning the same `true` inside a minimal bubblewrap");
  log(
    "sandbox (`bwrap --ro-bind / / --dev /dev --proc /proc --tmpfs /tmp --unshare-pid true`), two at a time:",
  );
  log("");
  log("| workload | Skiff (bwrap) | bare spawn of bwrap | Skiff / bare bwrap |");
  log("|---|---|---|---|");
  for (const r of bwrapRows) log(r);
  log("");
}
if (latency) {
  log("## (b) withSequence fan-out, parallelism 50");
  log("");
  log(
    "Target: time per node flat as N grows; peak RSS under 500 MB (RSS of the whole process, TypeScript loader included).",
  );
  log("");
  log("| items | wall time | time per item | nodes in status | peak RSS |");
  log("|---|---|---|---|---|");
  for (const { n, r } of seq)
    log(`| ${n} | ${fmt(r.ms)} | ${(r.ms / n).toFixed(2)} ms | ${r.nodes as number} | ${r.maxRssMB} MB |`);
  log("");
  log("## (c) From a dependency finishing to its dependent starting");
  log("");
  log("A chain of DAG tasks; the time from the executor reporting a task's end to the controller asking the");
  log("executor to start the next task (engine latency, process start excluded).");
  log("");
  log(`| chain length | median | p99 | max |`);
  log("|---|---|---|---|");
  log(
    `| ${latency.samples as number} | ${(latency.medianMs as number).toFixed(2)} ms | ${(latency.p99Ms as number).toFixed(2)} ms | ${(latency.maxMs as number).toFixed(2)} ms |`,
  );
  log("");
} else {
  // Kept from the last full run: from the (b) heading up to the analysis.
  const kept = /^## \(b\)[\s\S]*?(?=^## Where the time goes)/m.exec(previous)?.[0];
  if (kept) lines.push(kept.trimEnd(), "");
}
// Analysis of the figures, kept with the generator so that a re-run keeps it (update it with the figures).
lines.push(readFileSync("bench/NOTES.md", "utf8").trimEnd());
// bench/persistence.ts writes its own block: keep it as it is.
// Read again: it may have been written while the benchmarks ran.
const current = existsSync("docs/performance.md") ? readFileSync("docs/performance.md", "utf8") : "";
const persistence = /<!-- persistence:start -->[\s\S]*<!-- persistence:end -->/.exec(current)?.[0];
if (persistence) lines.push("", persistence);
if (!quick) writeFileSync("docs/performance.md", lines.join("\n") + "\n");
