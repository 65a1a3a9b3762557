import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleCli, ROOT } from "../durable/helpers.js";
import { FAILING_CI, FAILING_SOURCE, git } from "../../helpers/junit/ci-checkout.js";
import { HAS_XMLLINT, schemaErrors } from "../../helpers/junit/schema.js";

/*
 * The Jenkins shared library outside Jenkins: Debian's groovy (Groovy 2.4, as Jenkins runs) compiles
 * plugins/jenkins/vars/skiff.groovy and runs it with stubs of the pipeline steps (pipeline-steps.groovy).
 * `sh` runs for real: the library calls the CLI bundled from this checkout, whose `skiff ci` reads Jenkins'
 * variables, runs the selected pipelines and writes the JUnit report the library then publishes.
 */

const LIBRARY = join(ROOT, "plugins/jenkins/vars/skiff.groovy");
const HARNESS = join(ROOT, "test/integration/jenkins/pipeline-steps.groovy");

/** Debian's groovy script wants JAVA_HOME when /usr/lib/jvm/default-java is missing: the JDK of `java`. */
function groovyEnv(): NodeJS.ProcessEnv | undefined {
  const env = { ...process.env };
  if (!env.JAVA_HOME || !existsSync(join(env.JAVA_HOME, "bin/java"))) {
    const java = spawnSync("sh", ["-c", "command -v java"]).stdout?.toString().trim();
    if (java) env.JAVA_HOME = dirname(dirname(realpathSync(java)));
  }
  return spawnSync("groovy", ["--version"], { env }).status === 0 ? env : undefined;
}
const GROOVY_ENV = groovyEnv();
if (!GROOVY_ENV)
  console.warn("skipping the Jenkins library test: groovy (Debian's groovy package) is not installed");

const PIPELINES: Record<string, string> = {
  "ci.yaml": FAILING_CI,
  "nightly.yaml": `kind: Pipeline
metadata:
  name: nightly
  annotations:
    skiff.dev/on-event: schedule
tasks:
  report:
    run: echo nightly
`,
};

interface Call {
  step: string;
  args: unknown;
}
interface Outcome {
  calls: Call[];
  outcome: { returned?: number; error?: string; result?: string | null };
}

describe.runIf(GROOVY_ENV)("Jenkins shared library (vars/skiff.groovy)", () => {
  let cli: string;
  let root: string;
  beforeAll(async () => {
    cli = await bundleCli();
    root = mkdtempSync(join(tmpdir(), "skiff-jenkins-"));
  }, 120_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** A checkout with the pipelines, as `checkout scm` leaves it, and the library run on it. */
  async function build(
    name: string,
    scenario: { env: Record<string, string>; args?: object; causes?: string[]; checksPlugin: boolean },
  ): Promise<Outcome & { workspace: string }> {
    const workspace = join(root, name);
    mkdirSync(join(workspace, ".skiff"), { recursive: true });
    mkdirSync(join(workspace, "src"));
    for (const [file, text] of Object.entries(PIPELINES))
      writeFileSync(join(workspace, ".skiff", file), text);
    writeFileSync(join(workspace, "src/app.ts"), FAILING_SOURCE);
    const repo = (...a: string[]) => git(workspace, ...a);
    repo("init", "-q", "-b", "main");
    repo("add", ".");
    repo("commit", "-qm", "init");
    const env = {
      JENKINS_URL: "https://jenkins.example.com/",
      BUILD_URL: "https://jenkins.example.com/job/shop/1/",
      GIT_URL: "https://github.com/acme/shop.git",
      GIT_COMMIT: repo("rev-parse", "HEAD"),
      WORKSPACE: workspace,
      SKIFF_STATE_DIR: join(workspace, ".state"),
      CI: "1",
      ...scenario.env,
    };
    const scenarioFile = join(root, `${name}.json`);
    const callsFile = join(root, `${name}-calls.json`);
    writeFileSync(
      scenarioFile,
      JSON.stringify({
        workspace,
        env,
        args: {
          pipelines: ".skiff",
          executor: "host",
          cli: `${process.execPath} ${cli}`,
          ...(scenario.args ?? {}),
        },
        causes: scenario.causes ?? [],
        checksPlugin: scenario.checksPlugin,
      }),
    );
    const run = await new Promise<{ code: number; output: string }>((resolve) => {
      const child = spawn("groovy", [HARNESS, LIBRARY, scenarioFile, callsFile], { env: GROOVY_ENV });
      let output = "";
      child.stdout.on("data", (c: Buffer) => (output += c.toString()));
      child.stderr.on("data", (c: Buffer) => (output += c.toString()));
      child.on("close", (code) => resolve({ code: code ?? -1, output }));
    });
    expect(run.code, run.output).toBe(0);
    expect(existsSync(callsFile), run.output).toBe(true);
    return { ...(JSON.parse(readFileSync(callsFile, "utf8")) as Outcome), workspace };
  }

  const steps = (o: Outcome, step: string) =>
    o.calls.filter((c) => c.step === step).map((c) => c.args as Record<string, unknown>);

  it("runs skiff ci on a change request, publishes the JUnit report and a check per step, fails the build", async () => {
    const o = await build("change", {
      env: { CHANGE_ID: "3", CHANGE_TARGET: "main", BRANCH_NAME: "PR-3" },
      checksPlugin: true,
    });
    const sh = steps(o, "sh").map((a) => a.script as string);
    expect(sh).toEqual([
      `${process.execPath} ${cli} ci --provider jenkins --pipelines '.skiff' --executor 'host' --junit 'skiff-junit.xml'`,
    ]);
    expect(steps(o, "junit")).toEqual([{ testResults: "skiff-junit.xml", allowEmptyResults: true }]);
    const checks = Object.fromEntries(steps(o, "publishChecks").map((c) => [c.name, c]));
    expect(Object.keys(checks)[0]).toBe("ci");
    expect(Object.keys(checks).sort()).toEqual(["ci", "ci / deploy", "ci / lint", "ci / test"]);
    expect(checks["ci"]).toMatchObject({
      status: "COMPLETED",
      conclusion: "FAILURE",
      title: "1 of 3 steps failed",
    });
    expect(checks["ci / lint"]).toMatchObject({
      conclusion: "SUCCESS",
      detailsURL: "https://jenkins.example.com/job/shop/1/",
    });
    expect(checks["ci / deploy"]).toMatchObject({ conclusion: "SKIPPED" });
    expect(checks["ci / test"]).toMatchObject({
      conclusion: "FAILURE",
      annotations: [
        {
          path: "src/app.ts",
          startLine: 3,
          endLine: 3,
          annotationLevel: "FAILURE",
          message: expect.any(String),
          title: "ci / test",
        },
      ],
    });
    expect(o.outcome.error).toBe("skiff: a pipeline failed (exit code 1)");

    // The report it published comes from the real run: the nightly pipeline was not selected.
    const junit = readFileSync(join(o.workspace, "skiff-junit.xml"), "utf8");
    expect(junit).not.toContain('name="nightly"');
    expect(junit).toMatch(/<testcase name="test" classname="ci" time="[\d.]+" file="src\/app.ts" line="3">/);
    if (HAS_XMLLINT) expect(schemaErrors(junit)).toBe("");
  }, 180_000);

  it("runs a timer build as a schedule, with parameters, without the Checks API plugin", async () => {
    const o = await build("timer", {
      env: { BRANCH_NAME: "main" },
      causes: ["hudson.triggers.TimerTrigger$TimerTriggerCause"],
      args: { failOnFailure: false, parameters: { greeting: "it's me" } },
      checksPlugin: false,
    });
    const [script] = steps(o, "sh").map((a) => a.script as string);
    expect(script).toContain("--event 'schedule'");
    expect(script).toContain(`-p 'greeting=it'\\''s me'`);
    expect(steps(o, "publishChecks")).toEqual([]);
    expect(o.calls.map((c) => c.args)).toContain(
      "skiff: the Checks API plugin is not installed; steps are in the test results only",
    );
    // Only the nightly pipeline runs on a schedule, and it succeeds.
    expect(o.outcome).toMatchObject({ returned: 0, result: null });
    const junit = readFileSync(join(o.workspace, "skiff-junit.xml"), "utf8");
    expect(junit).toContain('<testsuite name="nightly"');
    expect(junit).not.toContain('<testsuite name="ci"');
  }, 180_000);

  it("finds skiff on the PATH, and marks the build UNSTABLE when asked not to fail it", async () => {
    const bin = join(root, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "skiff"), `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`, {
      mode: 0o755,
    });
    const o = await build("find", {
      env: { BRANCH_NAME: "main", PATH: `${bin}:${process.env.PATH}` },
      args: { cli: undefined, failOnFailure: false },
      checksPlugin: false,
    });
    const sh = steps(o, "sh").map((a) => a.script as string);
    expect(sh[0]).toBe("command -v skiff >/dev/null 2>&1");
    expect(sh[1]).toBe(
      "skiff ci --provider jenkins --pipelines '.skiff' --executor 'host' --junit 'skiff-junit.xml'",
    );
    // A push of main runs ci (the nightly pipeline waits for its schedule), whose test step fails.
    expect(o.outcome).toMatchObject({ returned: 1, result: "UNSTABLE" });
    expect(o.outcome.error).toBeUndefined();
  }, 180_000);
});
