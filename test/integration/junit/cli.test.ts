import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, cliSuite, type Trial } from "../durable/helpers.js";
import { HAS_XMLLINT, schemaErrors } from "../../helpers/junit/schema.js";

/*
 * `skiff run --junit` and `skiff ci` as users run them: the CLI bundle, the host executor without sandbox,
 * a temp state folder.
 */

const suite = cliSuite();
const NO_SANDBOX = ["--executor", "host", "--sandbox", "none"];

const FAILING = `kind: Pipeline
metadata:
  name: build
tasks:
  compile:
    run: echo compiling
  check:
    needs: [compile]
    run: |
      echo "lib/util.py:7: error: name 'x' is not defined"
      exit 2
`;

function checkout(t: Trial): string {
  mkdirSync(join(t.workspace, ".skiff"), { recursive: true });
  writeFileSync(join(t.workspace, ".skiff/build.yaml"), FAILING);
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: t.workspace });
  execFileSync(
    "git",
    ["-c", "user.email=d@example.com", "-c", "user.name=d", "commit", "-q", "--allow-empty", "-m", "x"],
    {
      cwd: t.workspace,
    },
  );
  return execFileSync("git", ["rev-parse", "HEAD"], { cwd: t.workspace }).toString().trim();
}

describe("skiff run --junit", () => {
  it("writes one testsuite per workflow and one testcase per step, valid against the schema", async () => {
    const t = suite.trial();
    checkout(t);
    const r = await cli(suite.path, t, [
      "run",
      ".skiff/build.yaml",
      ...NO_SANDBOX,
      "--junit",
      "reports/junit.xml",
    ]);
    expect(r.code, r.stderr).toBe(1);
    const xml = readFileSync(join(t.workspace, "reports/junit.xml"), "utf8");
    expect(xml).toMatch(/<testsuite name="build" tests="2" failures="1" errors="0" skipped="0"/);
    expect(xml).toMatch(
      /<testcase name="compile" classname="build" time="[\d.]+" file=".skiff\/build.yaml" line="5">/,
    );
    expect(xml).toMatch(
      /<testcase name="check" classname="build" time="[\d.]+" file="lib\/util.py" line="7">/,
    );
    expect(xml).toMatch(
      /<failure message="[^"]*exit code 2[^"]*" type="Failed">lib\/util.py:7: name 'x' is not defined<\/failure>/,
    );
    if (HAS_XMLLINT) expect(schemaErrors(xml)).toBe("");
  }, 60_000);
});

describe("skiff ci refuses what it cannot read", () => {
  it("outside GitLab CI and Jenkins: SKF-CI-001, exit 2", async () => {
    const t = suite.trial();
    // The test itself may run in GitLab CI or Jenkins.
    const saved = {
      GITLAB_CI: process.env.GITLAB_CI,
      JENKINS_URL: process.env.JENKINS_URL,
      JENKINS_HOME: process.env.JENKINS_HOME,
    };
    for (const k of Object.keys(saved)) delete process.env[k];
    const r = await cli(suite.path, t, ["ci"]).finally(() => {
      for (const [k, v] of Object.entries(saved)) if (v !== undefined) process.env[k] = v;
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SKF-CI-001 no GitLab CI or Jenkins variables are set/);
  });

  it("a GitLab job without its predefined variables: SKF-CI-002 naming the variable", async () => {
    const t = suite.trial();
    const r = await cli(suite.path, t, ["ci", "--provider", "gitlab"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SKF-CI-002 CI_PIPELINE_SOURCE is not set/);
  });

  it("--gitlab-report without a token warns SKF-GL-003, runs, and still writes both reports", async () => {
    const t = suite.trial();
    const sha = checkout(t);
    const env = {
      GITLAB_CI: "true",
      CI_PIPELINE_SOURCE: "push",
      CI_COMMIT_SHA: sha,
      CI_COMMIT_BRANCH: "main",
    };
    Object.assign(process.env, env);
    try {
      const r = await cli(suite.path, t, ["ci", ...NO_SANDBOX, "--junit", "junit.xml", "--gitlab-report"]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/SKF-GL-003 CI_PROJECT_ID, CI_API_V4_URL, SKIFF_GITLAB_TOKEN not set/);
      expect(r.stdout).toMatch(/gitlab: event push on refs\/heads\/main/);
      expect(r.stdout).toMatch(/0 of 1 pipelines succeeded/);
      const quality = JSON.parse(readFileSync(join(t.workspace, "gl-code-quality-report.json"), "utf8")) as {
        location: { path: string; lines: { begin: number } };
      }[];
      expect(quality.map((q) => q.location)).toContainEqual({ path: "lib/util.py", lines: { begin: 7 } });
      expect(existsSync(join(t.workspace, "junit.xml"))).toBe(true);
    } finally {
      for (const k of Object.keys(env)) delete process.env[k];
    }
  }, 60_000);
});
