import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Secret, Template } from "../../../runtime/spec/types.js";
import { runStep, SANDBOX_MODES, setup, stepRequest } from "./helpers.js";

describe("host executor env valueFrom (issue 12 item 7)", () => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup("none");
  });
  afterAll(() => env.dispose());
  const secrets = new Map<string, Secret>([
    [
      "creds",
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "creds" },
        data: { password: Buffer.from("s3cret").toString("base64") },
      },
    ],
  ]);
  const t = (key: string): Template => ({
    name: "e",
    container: {
      image: "alpine",
      command: ["sh", "-c", 'printf %s "$PASS"'],
      env: [{ name: "PASS", valueFrom: { secretKeyRef: { name: "creds", key } } } as never],
    },
  });

  it("gives a step the value of a secretKeyRef", async () => {
    const h = await env.executor.start(stepRequest(t("password"), { secrets, captureResult: true }));
    const result = await env.executor.wait(h);
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("s3cret");
  });

  it("fails start with SKF-EXEC-011 naming a missing key", async () => {
    await expect(env.executor.start(stepRequest(t("user"), { secrets }))).rejects.toMatchObject({
      code: "SKF-EXEC-011",
      message: expect.stringContaining("couldn't find key user in Secret default/creds"),
    });
  });
});

describe.each(SANDBOX_MODES)("host executor tty: true, sandbox %s (issue 11 gap 12)", (mode) => {
  let env: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    env = await setup(mode, { warn: () => undefined });
  });
  afterAll(() => env.dispose());

  it("gives the step a terminal; its output still reaches the logs and the result", async () => {
    const { result, logs } = await runStep(
      env.executor,
      stepRequest(
        {
          name: "t",
          container: {
            image: "alpine",
            command: [
              "sh",
              "-c",
              "[ -t 1 ] && [ -t 2 ] && echo tty || echo notty; echo 'it''s' \"$0\"",
              "x y",
            ],
            tty: true,
          },
        },
        { captureResult: true },
      ),
    );
    expect(result.phase).toBe("Succeeded");
    expect(result.outputs.result).toBe("tty\nits x y");
    expect(logs.map((l) => l.text)).toEqual(["tty", "its x y"]);
  });

  it("keeps the container's exit code", async () => {
    const { result } = await runStep(
      env.executor,
      stepRequest({ name: "t", container: { image: "alpine", command: ["sh", "-c", "exit 3"], tty: true } }),
    );
    expect(result.phase).toBe("Failed");
    expect(result.exitCode).toBe(3);
  });

  it.each(["stop", "deadline"])(
    "a %s kills every process of the step, also those that ignore SIGHUP and SIGTERM",
    async (how) => {
      // A marker no other process has: the step's stubborn children are found by it.
      const marker = `${300 + Math.floor(Math.random() * 1000)}.${process.pid % 1000}`;
      const h = await env.executor.start(
        stepRequest(
          {
            name: "stubborn",
            container: {
              image: "alpine",
              command: [
                "sh",
                "-c",
                `trap '' HUP TERM; (trap '' HUP TERM; sleep ${marker}) & sleep ${marker} & echo up; wait`,
              ],
              tty: true,
            },
          },
          how === "deadline" ? { deadline: Date.now() + 1_500 } : {},
        ),
      );
      const lines: string[] = [];
      const reading = (async () => {
        for await (const l of env.executor.logs(h)) lines.push(l.text);
      })();
      for (let i = 0; i < 200 && !lines.includes("up"); i++) await delay(25);
      expect(lines).toContain("up");
      expect(sleepers(marker).length).toBe(2);
      if (how === "stop") await env.executor.kill(h, "Stopped with strategy 'Stop'");
      const result = await env.executor.wait(h);
      await reading;
      expect(result.phase).toBe("Failed");
      expect(result.message).toBe(
        how === "stop"
          ? "Stopped with strategy 'Stop'"
          : "Pod was active on the node longer than the specified deadline",
      );
      expect(sleepers(marker)).toEqual([]);
    },
    30_000,
  );
});

/** Live processes whose command line is `sleep <marker>`. */
function sleepers(marker: string): string[] {
  return execFileSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" })
    .split("\n")
    .filter((l) => new RegExp(`^\\s*\\d+\\s+[^Z\\s]\\S*\\s+sleep ${marker.replace(".", "\\.")}$`).test(l));
}

describe("host executor and the controller's secrets (issue 12 item 8)", () => {
  it("gives steps (and their supervisor) none of the controller's environment, and warns once without a sandbox", async () => {
    const warnings: string[] = [];
    process.env.GITHUB_TOKEN = "ghp_canary";
    process.env.INPUT_TOKEN = "input_canary";
    const env = await setup("none", { warn: (code, message) => warnings.push(`${code} ${message}`) });
    try {
      const script = 'env; echo ---; tr "\\0" "\\n" < /proc/$PPID/environ';
      for (let i = 0; i < 2; i++) {
        const { result } = await runStep(
          env.executor,
          stepRequest(
            { name: "e", container: { image: "alpine", command: ["sh", "-c", script] } },
            { captureResult: true },
          ),
        );
        expect(result.phase).toBe("Succeeded");
        expect(result.outputs.result).not.toMatch(/canary/);
      }
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^SKF-EXEC-013 SKF-EXEC-013: steps run without a sandbox/);
      expect(warnings[0]).toMatch(/environment and memory through \/proc/);
    } finally {
      delete process.env.GITHUB_TOKEN;
      delete process.env.INPUT_TOKEN;
      await env.dispose();
    }
  });
});

describe("host executor without a sandbox leaves nothing it made at host paths (issue 12 item 8)", () => {
  it("removes emptyDir mount folders, secret files and input artifacts it created, after outputs are read", async () => {
    const env = await setup("none", { warn: () => undefined });
    const base = `/tmp/skiff-left-${process.pid}`;
    const secrets = new Map<string, Secret>([
      ["s", { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { k: "v" } }],
    ]);
    try {
      const { result } = await runStep(
        env.executor,
        stepRequest(
          {
            name: "o",
            container: {
              image: "alpine",
              command: ["sh", "-c", `cat ${base}-in/in.txt ${base}-sec/k > ${base}-mnt/out/p.txt`],
              volumeMounts: [
                { name: "out", mountPath: `${base}-mnt/out` },
                { name: "sec", mountPath: `${base}-sec` },
              ],
            },
            outputs: { parameters: [{ name: "p", valueFrom: { path: `${base}-mnt/out/p.txt` } }] },
          },
          {
            volumes: [
              { name: "out", emptyDir: {} },
              { name: "sec", secret: { secretName: "s" } },
            ],
            secrets,
            inputArtifacts: [{ name: "in", path: `${base}-in/in.txt`, raw: { data: "in-" } }],
          },
        ),
      );
      expect(result.phase).toBe("Succeeded");
      expect(result.outputs.parameters?.[0]).toMatchObject({ name: "p", value: "in-v" });
      for (const left of [`${base}-mnt`, `${base}-sec`, `${base}-in`]) expect(existsSync(left)).toBe(false);
    } finally {
      for (const left of [`${base}-mnt`, `${base}-sec`, `${base}-in`])
        rmSync(left, { recursive: true, force: true });
      await env.dispose();
    }
  });
});
