import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A workload: layers of commands; every command of layer k waits for all of layer k-1. */
export type Layers = string[][][];

/** Wall time of `make -jN` running the same commands with the same dependencies: the physical floor. */
export function timeMake(layers: Layers, jobs: number): number {
  const dir = mkdtempSync(join(tmpdir(), "skiff-bench-make-"));
  try {
    const lines: string[] = [".PHONY: all", ""];
    const targets: string[][] = layers.map((layer, l) => layer.map((_, i) => `t${l}_${i}`));
    lines.push(`all: ${targets.flat().join(" ")}`, "");
    layers.forEach((layer, l) => {
      layer.forEach((argv, i) => {
        const deps = l > 0 ? targets[l - 1]!.join(" ") : "";
        lines.push(`t${l}_${i}: ${deps}`, `\t@${argv.join(" ")}`, "");
      });
      lines.push(`.PHONY: ${targets[l]!.join(" ")}`);
    });
    writeFileSync(join(dir, "Makefile"), lines.join("\n"));
    const t0 = performance.now();
    const r = spawnSync("make", ["-s", `-j${jobs}`, "-C", dir, "all"], { stdio: "ignore" });
    const t = performance.now() - t0;
    if (r.status !== 0) throw new Error(`make failed with ${r.status}`);
    return t;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Wall time of a bare Node script that only spawns the same processes, `concurrency` at a time. */
export async function timeBareSpawn(layers: Layers, concurrency: number): Promise<number> {
  const t0 = performance.now();
  for (const layer of layers) {
    let next = 0;
    const worker = async () => {
      while (next < layer.length) {
        const argv = layer[next++]!;
        await new Promise<void>((resolve, reject) => {
          const p = spawn(argv[0]!, argv.slice(1), { stdio: "ignore" });
          p.on("error", reject);
          p.on("exit", () => resolve());
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, layer.length) }, worker));
  }
  return performance.now() - t0;
}
