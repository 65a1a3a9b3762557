import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { cli, cliSuite, counts, ROOT, start, stored, type Trial } from "../durable/helpers.js";

/*
 * The argo-style workflow commands end to end: the CLI bundle as users run it, a background process per
 * submitted workflow, real step processes (host executor, no sandbox), and the embedded store between them.
 */

const FIXTURES = join(ROOT, "test/integration/cli/fixtures");
const FLAKY = join(FIXTURES, "flaky.yaml");
const SLEEPER = join(FIXTURES, "sleeper.yaml");
const GATED = join(FIXTURES, "gated.yaml");
const NO_SANDBOX = ["--sandbox", "none"];

const suite = cliSuite();
const trial = (): Trial => suite.trial();

const skiff = (t: Trial, ...args: string[]) => cli(suite.path, t, args);

/** Reads the stored workflow until `ok` holds for it. */
async function until(t: Trial, name: string, ok: (wf: Workflow) => boolean): Promise<Workflow> {
  for (;;) {
    const wf = await stored(suite.path, t, name);
    if (wf && ok(wf)) return wf;
  }
}

const node = (wf: Workflow | undefined, displayName: string): NodeStatus | undefined =>
  Object.values(wf?.status?.nodes ?? {}).find((n) => n.displayName === displayName);

async function submit(t: Trial, ...args: string[]): Promise<string> {
  const r = await skiff(t, "submit", ...args, ...NO_SANDBOX, "-o", "name");
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("submit, wait, retry", () => {
  it("a failed workflow is retried: only the failed step runs again, the exit handler runs again", async () => {
    const t = trial();
    const name = await submit(t, FLAKY);
    expect(name).toMatch(/^flaky-[a-z0-9]{5}$/);
    // submit returned once the background process took the workflow: it is known and owned.
    const waited = await skiff(t, "wait", name);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toMatch(new RegExp(`^${name} Failed \\(child '.*' failed\\)\\n$`));
    const failed = await stored(suite.path, t, name);
    expect(node(failed, "b")?.phase).toBe("Failed");
    expect(node(failed, "c")).toBeUndefined();
    expect(Object.fromEntries(counts(t))).toEqual({ a: 1, "exit-Failed": 1 });
    const log = readFileSync(join(t.state, "background", "default", `${name}.log`), "utf8");
    expect(log).toMatch(/✖ b Failed/);

    writeFileSync(join(t.workspace, "pass"), "");
    const retried = await skiff(t, "retry", name, ...NO_SANDBOX, "--wait");
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toBe(`${name} Succeeded\n`);
    const done = await stored(suite.path, t, name);
    expect(done?.status?.phase).toBe("Succeeded");
    expect(done?.status?.message).toBeUndefined();
    expect(done?.metadata.uid).toBe(failed?.metadata.uid);
    expect(node(done, "a")?.finishedAt).toBe(node(failed, "a")?.finishedAt);
    expect(Object.fromEntries(counts(t))).toEqual({
      a: 1,
      b: 1,
      c: 1,
      "exit-Failed": 1,
      "exit-Succeeded": 1,
    });

    // Argo's rules: a Succeeded workflow only with --restart-successful and a selector.
    const refused = await skiff(t, "retry", name);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /SKF-RUN-007 To retry a succeeded workflow, set the options restartSuccessful and nodeFieldSelector\n {2}hint: /,
    );
    const again = await skiff(
      t,
      "retry",
      name,
      ...NO_SANDBOX,
      "--restart-successful",
      "--node-field-selector",
      "displayName=c",
      "--wait",
    );
    expect(again.code, again.stderr).toBe(0);
    expect(counts(t).get("c")).toBe(2);
    expect(counts(t).get("a")).toBe(1);

    const unknown = await skiff(t, "retry", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/SKF-RUN-003 workflow default\/nope not found\n {2}hint: /);
  }, 300_000);

  it("retry in the background; a running workflow cannot be retried", async () => {
    const t = trial();
    const name = await submit(t, SLEEPER);
    await until(t, name, (wf) => node(wf, "nap")?.phase === "Running");
    const running = await skiff(t, "retry", name);
    expect(running.code).toBe(2);
    expect(running.stderr).toMatch(/SKF-RUN-007 Cannot retry a workflow in phase Running/);
    expect((await skiff(t, "terminate", name)).code).toBe(0);
    expect((await skiff(t, "wait", name)).code).toBe(1);

    const bg = await skiff(t, "retry", name, ...NO_SANDBOX);
    expect(bg.code, bg.stderr).toBe(0);
    expect(bg.stdout).toMatch(new RegExp(`^Name: +${name}\\n`));
    // The background process runs it again: nap is running anew.
    const again = await until(t, name, (wf) => node(wf, "nap")?.phase === "Running");
    expect(again.status?.phase).toBe("Running");
    expect((await skiff(t, "terminate", name)).code).toBe(0);
    const w = await skiff(t, "wait", name);
    expect(w.stdout).toBe(`${name} Failed (Stopped with strategy 'Terminate')\n`);
  }, 300_000);
});

describe("resubmit", () => {
  it("--memoized keeps succeeded steps; a plain resubmit runs everything again", async () => {
    const t = trial();
    const first = await skiff(t, "submit", FLAKY, ...NO_SANDBOX, "-p", "want=missing", "--wait");
    expect(first.code).toBe(1);
    const [name, result] = first.stdout.trim().split("\n");
    expect(result).toMatch(new RegExp(`^${name} Failed`));

    // The file `pass` does not exist yet: the gate fails again, a is not run again.
    const memo = await skiff(t, "resubmit", name!, "--memoized", "-p", "want=pass", ...NO_SANDBOX, "--wait");
    expect(memo.code).toBe(1);
    const memoName = memo.stdout.split(" ")[0]!;
    expect(memoName).toMatch(/^flaky-[a-z0-9]{5}$/);
    expect(memoName).not.toBe(name);
    const memoWf = await stored(suite.path, t, memoName);
    expect(memoWf?.metadata.labels?.["workflows.argoproj.io/resubmitted-from-workflow"]).toBe(name);
    expect(memoWf?.metadata.labels?.team).toBe("cli");
    expect(node(memoWf, "a")).toMatchObject({ phase: "Skipped", type: "Skipped" });
    expect(node(memoWf, "a")?.message).toMatch(/^original pod: /);
    expect(memoWf?.spec.arguments?.parameters).toEqual([{ name: "want", value: "pass" }]);
    expect(counts(t).get("a")).toBe(1);

    // Argo drops a carried-over Skipped step that has no succeeded descendant: resubmit the original.
    writeFileSync(join(t.workspace, "pass"), "");
    const memo2 = await skiff(t, "resubmit", name!, "--memoized", "-p", "want=pass", ...NO_SANDBOX, "--wait");
    expect(memo2.code, memo2.stderr).toBe(0);
    expect(Object.fromEntries(counts(t))).toEqual({
      a: 1,
      b: 1,
      c: 1,
      "exit-Failed": 2,
      "exit-Succeeded": 1,
    });

    const ok = memo2.stdout.split(" ")[0]!;
    const notFailed = await skiff(t, "resubmit", ok, "--memoized");
    expect(notFailed.code).toBe(2);
    expect(notFailed.stderr).toMatch(
      /SKF-RUN-008 workflow must be Failed\/Error to resubmit in memoized mode/,
    );
    const plain = await skiff(t, "resubmit", ok, ...NO_SANDBOX, "--log");
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stdout).toMatch(/^(a: a\nc: c\n)flaky-[a-z0-9]{5} Succeeded\n$/);
    expect(counts(t).get("a")).toBe(2);

    // submit --log follows the background run's step logs through the store.
    const logged = await skiff(t, "submit", FLAKY, ...NO_SANDBOX, "--log");
    expect(logged.code, logged.stderr).toBe(0);
    expect(logged.stdout).toMatch(/^(flaky-[a-z0-9]{5})\na: a\nc: c\n\1 Succeeded\n$/);

    const byLabel = await skiff(
      t,
      "list",
      "-l",
      `workflows.argoproj.io/resubmitted-from-workflow=${name}`,
      "-o",
      "name",
    );
    expect(byLabel.stdout.split("\n").filter(Boolean).sort()).toEqual([memoName, ok].sort());
  }, 300_000);
});

describe("suspend, resume, stop, terminate, watch on a submitted workflow", () => {
  it("watch follows a workflow resumed from another shell; suspend holds the next step", async () => {
    const t = trial();
    const name = await submit(t, GATED);
    const watching = start(suite.path, t, ["watch", name]).done;
    await until(t, name, (wf) => node(wf, "first")?.phase === "Running");
    const suspended = await skiff(t, "suspend", name);
    expect(suspended.stdout).toBe(`workflow ${name} suspend requested\n`);
    await until(t, name, (wf) => wf.spec.suspend === true);
    writeFileSync(join(t.workspace, "go"), "");
    const held = await until(t, name, (wf) => node(wf, "first")?.phase === "Succeeded");
    expect(node(held, "approve")).toBeUndefined();

    expect((await skiff(t, "resume", name)).code).toBe(0);
    await until(t, name, (wf) => node(wf, "approve")?.phase === "Running");
    const resumed = await skiff(t, "resume", name, "--node-field-selector", "displayName=approve");
    expect(resumed.code, resumed.stderr).toBe(0);
    const watched = await watching;
    expect(watched.code, watched.stderr).toBe(0);
    expect(watched.stdout).toMatch(/✔ approve Succeeded\n/);
    expect(watched.stdout).toMatch(new RegExp(`Name: +${name}\\n.*\\nStatus: +Succeeded\\n`));
    expect(watched.stdout).toMatch(/✔ last/);
    expect(Object.fromEntries(counts(t))).toEqual({ first: 1, last: 1 });

    // watch of a completed workflow prints it and exits at once.
    const after = await skiff(t, "watch", name);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/Status: +Succeeded/);
  }, 300_000);

  it("stop kills the step and runs the exit handler; terminate does not run it", async () => {
    const t = trial();
    const stopped = await submit(t, SLEEPER);
    await until(t, stopped, (wf) => node(wf, "nap")?.phase === "Running");
    expect((await skiff(t, "stop", stopped)).stdout).toBe(`workflow ${stopped} stop requested\n`);
    const s = await skiff(t, "wait", stopped);
    expect(s.code).toBe(1);
    expect(s.stdout).toBe(`${stopped} Failed (Stopped with strategy 'Stop')\n`);
    const stoppedWf = await stored(suite.path, t, stopped);
    expect(node(stoppedWf, "nap")).toMatchObject({
      phase: "Failed",
      message: "workflow shutdown with strategy:  Stop",
    });
    expect(node(stoppedWf, "after")).toBeUndefined();
    expect(counts(t).get("exit-Failed")).toBe(1);

    const terminated = await submit(t, SLEEPER);
    await until(t, terminated, (wf) => node(wf, "nap")?.phase === "Running");
    expect((await skiff(t, "terminate", terminated)).code).toBe(0);
    const w = await skiff(t, "wait", terminated);
    expect(w.stdout).toBe(`${terminated} Failed (Stopped with strategy 'Terminate')\n`);
    const terminatedWf = await stored(suite.path, t, terminated);
    expect(node(terminatedWf, "nap")).toMatchObject({
      phase: "Failed",
      message: "workflow shutdown with strategy:  Terminate",
    });
    expect(node(terminatedWf, `${terminated}.onExit`)).toBeUndefined();
    expect(counts(t).get("exit-Failed")).toBe(1);

    // Commands to a workflow nobody runs any more are refused.
    const late = await skiff(t, "stop", terminated);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/SKF-RUN-004 workflow .* is not running \(phase Failed\)/);
  }, 300_000);
});

describe("archive, list and delete filters", () => {
  it("completed runs are archived; list and delete select by phase, labels, prefix and age", async () => {
    const t = trial();
    const failed = await submit(t, FLAKY, "-p", "want=missing");
    expect((await skiff(t, "wait", failed)).code).toBe(1);
    writeFileSync(join(t.workspace, "pass"), "");
    const ok = await submit(t, FLAKY, "--name", "fixed-name", "-l", "extra=yes");
    expect(ok).toBe("fixed-name");
    expect((await skiff(t, "wait", ok)).code).toBe(0);

    expect((await skiff(t, "list", "--status", "Failed", "-o", "name")).stdout).toBe(`${failed}\n`);
    expect((await skiff(t, "list", "--phase", "Succeeded", "-o", "name")).stdout).toBe("fixed-name\n");
    expect(
      (await skiff(t, "list", "--completed", "-l", "team=cli", "-o", "name")).stdout.split("\n").sort(),
    ).toEqual(["", failed, "fixed-name"].sort());
    expect((await skiff(t, "list", "--running", "-o", "name")).stdout).toBe("");
    expect((await skiff(t, "list", "-l", "extra=yes,team=cli", "-o", "name")).stdout).toBe("fixed-name\n");
    expect((await skiff(t, "list", "--prefix", "fixed", "-o", "name")).stdout).toBe("fixed-name\n");
    const wide = await skiff(t, "list", "-o", "wide");
    expect(wide.stdout).toMatch(
      /^NAME +STATUS +STARTED +FINISHED +DURATION +PROGRESS +MESSAGE +PARAMETERS\n/,
    );
    expect(wide.stdout).toMatch(/fixed-name +Succeeded .* want=pass\n/);
    const badLabel = await skiff(t, "list", "-l", "=x");
    expect(badLabel.code).toBe(2);
    const badAge = await skiff(t, "delete", "--older", "soon");
    expect(badAge.stderr).toMatch(/SKF-RUN-010 "soon" is not a duration/);

    expect((await skiff(t, "archive", "list", "-o", "name")).stdout.split("\n").sort()).toEqual(
      ["", failed, "fixed-name"].sort(),
    );
    const archived = await skiff(t, "archive", "get", failed, "-o", "json");
    expect((JSON.parse(archived.stdout) as Workflow).status?.phase).toBe("Failed");
    const table = await skiff(t, "archive", "list");
    expect(table.stdout).toMatch(/^NAME +UID +STATUS +STARTED +FINISHED +MESSAGE\n/);
    const missing = await skiff(t, "archive", "get", "nope");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/SKF-RUN-011 no archived run of default\/nope\n {2}hint: /);

    // Nothing finished an hour ago; --completed deletes both, --dry-run first deletes nothing.
    expect((await skiff(t, "delete", "--older", "1h")).stdout).toBe("");
    const dry = await skiff(t, "delete", "--completed", "--dry-run");
    expect(dry.stdout.split("\n").filter(Boolean).sort()).toEqual(
      [`workflow ${failed} deleted (dry run)`, "workflow fixed-name deleted (dry run)"].sort(),
    );
    expect((await skiff(t, "delete", "--status", "Failed")).stdout).toBe(`workflow ${failed} deleted\n`);
    expect((await skiff(t, "list", "-o", "name")).stdout).toBe("fixed-name\n");
    // The archive keeps the deleted run, and resubmit finds it there.
    expect((await skiff(t, "archive", "get", failed, "-o", "name")).stdout).toBe(`${failed}\n`);
    const fromArchive = await skiff(t, "resubmit", failed, "-p", "want=pass", ...NO_SANDBOX, "--wait");
    expect(fromArchive.code, fromArchive.stderr).toBe(0);

    const removed = await skiff(t, "archive", "delete", failed);
    expect(removed.stdout).toBe(`archived workflow ${failed} deleted (1 run)\n`);
    expect((await skiff(t, "archive", "get", failed)).stderr).toMatch(/SKF-RUN-011/);
  }, 300_000);
});
