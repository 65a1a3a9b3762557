import { execFileSync } from "node:child_process";
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
