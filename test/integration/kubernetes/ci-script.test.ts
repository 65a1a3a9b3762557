import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { afterAll, describe, expect, it } from "vitest";
import { bundleCli, ROOT } from "../durable/helpers.js";
import { DOCKER_AVAILABLE, DOUBLE_IMAGE_MAP } from "./helpers.js";

/**
 * The script .github/workflows/kubernetes.yml runs on a kind cluster, run here against the API double served
 * in its own process (test/doubles/kube-api/serve.ts): every example must pass and nothing may be left. The
 * workflow file itself is checked for the steps it needs.
 */
describe("the Kubernetes CI workflow", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("creates a kind cluster, applies the RBAC example and runs the script with the built CLI", () => {
    const wf = parseYaml(readFileSync(join(ROOT, ".github/workflows/kubernetes.yml"), "utf8")) as {
      jobs: Record<string, { steps: { uses?: string; run?: string; env?: Record<string, string> }[] }>;
    };
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    expect(steps.some((s) => s.uses?.startsWith("helm/kind-action@"))).toBe(true);
    expect(steps.some((s) => s.run?.includes("npm run build"))).toBe(true);
    expect(
      steps.some((s) => s.run?.includes("kubectl apply -n skiff -f examples/kubernetes/rbac.yaml")),
    ).toBe(true);
    expect(steps.some((s) => s.run === "examples/kubernetes/run-examples.sh")).toBe(true);
  });

  it.skipIf(!DOCKER_AVAILABLE)(
    "its script passes against the API double and leaves nothing",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "skiff-kube-ci-"));
      dirs.push(dir);
      const cli = await bundleCli();
      dirs.push(join(cli, ".."));
      const kubeconfig = join(dir, "kubeconfig");
      const serve = spawn(
        process.execPath,
        [
          join(ROOT, "node_modules/tsx/dist/cli.mjs"),
          join(ROOT, "test/doubles/kube-api/serve.ts"),
          kubeconfig,
          ...Object.entries(DOUBLE_IMAGE_MAP).map(([k, v]) => `${k}=${v}`),
        ],
        { cwd: ROOT },
      );
      let served = "";
      serve.stdout.on("data", (c: Buffer) => (served += c.toString()));
      serve.stderr.on("data", (c: Buffer) => (served += c.toString()));
      for (let i = 0; i < 300 && !served.includes("ready "); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(served).toContain("ready ");
      const script = spawn(join(ROOT, "examples/kubernetes/run-examples.sh"), [], {
        cwd: dir,
        env: {
          ...process.env,
          KUBECONFIG: kubeconfig,
          SKIFF: `${process.execPath} ${cli}`,
          NAMESPACE: "ci",
          SKIFF_STATE_DIR: join(dir, "state"),
          SKIFF_STORE: "",
        },
      });
      let out = "";
      script.stdout.on("data", (c: Buffer) => (out += c.toString()));
      script.stderr.on("data", (c: Buffer) => (out += c.toString()));
      const code = await new Promise<number | null>((resolve) => script.on("close", resolve));
      serve.kill("SIGTERM");
      await new Promise((resolve) => serve.on("close", resolve));
      expect(code, out.slice(-4000)).toBe(0);
      expect(out).toContain("ok pods.yaml");
      expect(out).toContain("ok fan-out-fan-in.yaml");
      expect(served).toContain("leftovers []");
      expect(served).toMatch(/validation \{"validated":\{[^}]*"Pod":\d+/);
      expect(served).not.toMatch(/"rejected":\{[^}]*"Pod"/);
    },
    300_000,
  );
});
