import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { forgetSecretInputs } from "../../../src/action/inputs.js";
import { run } from "../../../src/action/main.js";

const TOKEN = "ghs_envt0ken4567";
const SECRET = "deploy-s3cret-value";
const SET = {
  "INPUT_GITHUB-TOKEN": TOKEN,
  INPUT_SECRETS: `DEPLOY_TOKEN=${SECRET}`,
  INPUT_EXECUTOR: "host",
  GITHUB_TOKEN: TOKEN,
  MY_DEPLOY: SECRET,
  ACTIONS_RUNTIME_TOKEN: "runtime-token",
};
const saved = { ...process.env };

afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  process.exitCode = undefined;
});

describe("the action's own environment", () => {
  it("forgets the token and secret inputs once read, so processes started later cannot inherit them", async () => {
    Object.assign(process.env, SET);
    // No GitHub context: the action stops after reading its inputs, as a failed job.
    await run({ env: {} });
    for (const k of [
      "INPUT_GITHUB-TOKEN",
      "INPUT_SECRETS",
      "GITHUB_TOKEN",
      "MY_DEPLOY",
      "ACTIONS_RUNTIME_TOKEN",
    ])
      expect(process.env[k], k).toBeUndefined();
    expect(process.env.INPUT_EXECUTOR).toBe("host");
    const child = execFileSync(
      process.execPath,
      ["-e", "process.stdout.write(JSON.stringify(process.env))"],
      {
        encoding: "utf8",
      },
    );
    expect(child).not.toContain(TOKEN);
    expect(child).not.toContain(SECRET);
  });

  it("removes only inputs carrying secrets and variables holding a secret's value", () => {
    const env: NodeJS.ProcessEnv = { ...SET, PATH: "/bin", OTHER: "x" };
    expect(forgetSecretInputs([TOKEN, SECRET, ""], env).sort()).toEqual(
      ["ACTIONS_RUNTIME_TOKEN", "GITHUB_TOKEN", "INPUT_GITHUB-TOKEN", "INPUT_SECRETS", "MY_DEPLOY"].sort(),
    );
    expect(env).toEqual({ INPUT_EXECUTOR: "host", PATH: "/bin", OTHER: "x" });
  });
});

describe("the action's environment as other processes see it", () => {
  it.runIf(process.platform === "linux")(
    "no longer shows the token in /proc/<pid>/environ once the action read it",
    async () => {
      const main = new URL("../../../src/action/proc-environ.ts", import.meta.url).pathname;
      const inputs = new URL("../../../src/action/inputs.ts", import.meta.url).pathname;
      const script = `
        const { forgetSecretInputs } = await import(${JSON.stringify(inputs)});
        const { scrubProcEnviron } = await import(${JSON.stringify(main)});
        const ok = scrubProcEnviron(forgetSecretInputs([process.env["INPUT_GITHUB-TOKEN"]]));
        process.stdout.write(ok ? "scrubbed\\n" : "not scrubbed\\n");
        process.stdin.resume();`;
      const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
        env: { PATH: process.env.PATH, "INPUT_GITHUB-TOKEN": TOKEN, GITHUB_TOKEN: TOKEN, KEEP: "kept" },
        stdio: ["pipe", "pipe", "inherit"],
      });
      try {
        const line = await new Promise<string>((resolve) =>
          child.stdout.once("data", (d: Buffer) => resolve(String(d))),
        );
        expect(line).toBe("scrubbed\n");
        const environ = readFileSync(`/proc/${child.pid}/environ`, "utf8").split("\0");
        expect(environ.join("\n")).not.toContain(TOKEN);
        expect(environ).toContain("KEEP=kept");
        expect(environ.find((e) => e.startsWith("INPUT_GITHUB-TOKEN="))).toMatch(/^INPUT_GITHUB-TOKEN=\*+$/);
      } finally {
        child.kill();
      }
    },
  );
});
