import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliSuite, counts, ROOT, stored, type Trial } from "../durable/helpers.js";

/*
 * What `skiff run`, `submit`, `list` and `lint` refuse, end to end: the CLI bundle as users run it, host
 * executor without sandbox, the embedded store of a temp state folder.
 */

const FIXTURES = join(ROOT, "test/integration/cli/fixtures");
const FIXED = join(FIXTURES, "fixed-name.yaml");
const NO_SANDBOX = ["--sandbox", "none"];

const suite = cliSuite();
const trial = (): Trial => suite.trial();
const skiff = (t: Trial, ...args: string[]) => cli(suite.path, t, args);

describe("a fixed metadata.name is created once (Argo's AlreadyExists)", () => {
  it("a second run or submit of an existing name is refused; nothing runs again, the stored one is kept", async () => {
    const t = trial();
    const first = await skiff(t, "run", FIXED, ...NO_SANDBOX);
    expect(first.code, first.stderr).toBe(0);
    const before = await stored(suite.path, t, "fixed");
    expect(before?.status?.phase).toBe("Succeeded");

    const again = await skiff(t, "run", FIXED, ...NO_SANDBOX);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/SKF-RUN-014 workflows\.argoproj\.io "fixed" already exists/);
    expect(again.stderr).toMatch(/skiff resume NAME/);
    expect(again.stderr).toMatch(/skiff delete NAME/);
    expect(again.stderr).toMatch(/generateName/);

    const submitted = await skiff(t, "submit", FIXED, ...NO_SANDBOX);
    expect(submitted.code).toBe(2);
    expect(submitted.stderr).toMatch(/SKF-RUN-014/);

    expect(Object.fromEntries(counts(t))).toEqual({ a: 1, b: 1 });
    const after = await stored(suite.path, t, "fixed");
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect(after?.status).toEqual(before?.status);

    // A new name runs.
    const renamed = await skiff(t, "run", FIXED, ...NO_SANDBOX, "--name", "fixed-2");
    expect(renamed.code, renamed.stderr).toBe(0);
  }, 60_000);
});
