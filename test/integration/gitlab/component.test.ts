import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CodeQualityIssue } from "../../../src/reporters/gitlab/index.js";
import { startFakeGitLab, type FakeGitLab } from "../../../src/testing/fake-gitlab.js";
import { bundleCli, ROOT } from "../durable/helpers.js";
import { FAILING_CI, FAILING_SOURCE, git } from "../../helpers/junit/ci-checkout.js";
import { HAS_XMLLINT, schemaErrors } from "../../helpers/junit/schema.js";

/*
 * The GitLab CI/CD component end to end: gitlab-ci-local runs plugins/gitlab/examples/.gitlab-ci.yml, which
 * includes the component from the repository, with the shell executor, on a merge-request event; the job
 * runs the CLI built from this checkout against the fake GitLab API.
 */

const GITLAB_CI_LOCAL = join(ROOT, "node_modules/.bin/gitlab-ci-local");
const HAS_RSYNC = spawnSync("rsync", ["--version"]).status === 0;
const READY = existsSync(GITLAB_CI_LOCAL) && HAS_RSYNC;
if (!READY)
  console.warn(
    `skipping the GitLab component test: ${existsSync(GITLAB_CI_LOCAL) ? "" : "gitlab-ci-local is not installed (npm ci); "}${HAS_RSYNC ? "" : "gitlab-ci-local needs rsync (apt-get install rsync)"}`,
  );

const TOKEN = "glpat-component-test-token";

const DOCS = `kind: Pipeline
metadata:
  name: docs
  annotations:
    skiff.dev/on-path-change: "docs/**"
tasks:
  build:
    run: echo docs
`;

describe.runIf(READY)("GitLab component through gitlab-ci-local", () => {
  let gitlab: FakeGitLab;
  let project: string;
  let cli: string;
  let result: { code: number; output: string };

  beforeAll(async () => {
    cli = await bundleCli();
    gitlab = await startFakeGitLab({ token: TOKEN, projectId: 42, mergeRequests: [7] });
    project = mkdtempSync(join(tmpdir(), "skiff-gitlab-component-"));
    const run = (...args: string[]) => git(project, ...args);

    // The component project: templates/ at its root, as GitLab's catalog wants it.
    cpSync(join(ROOT, "plugins/gitlab/templates"), join(project, "templates"), { recursive: true });
    mkdirSync(join(project, ".skiff"));
    mkdirSync(join(project, "src"));
    writeFileSync(join(project, ".skiff/ci.yaml"), FAILING_CI);
    writeFileSync(join(project, ".skiff/docs.yaml"), DOCS);
    writeFileSync(join(project, "src/app.ts"), "export const one = 1;\n");
    run("init", "-q", "-b", "main");
    run("remote", "add", "origin", "git@gitlab.example.com:group/project.git");
    run("add", ".");
    run("commit", "-qm", "base");
    const base = run("rev-parse", "HEAD");
    run("checkout", "-q", "-b", "feature");
    writeFileSync(join(project, "src/app.ts"), FAILING_SOURCE);
    // The example, including the component from this project at the commit that runs (GitLab's own way of
    // testing a component in its project), and running this checkout's CLI on the host.
    const example = readFileSync(join(ROOT, "plugins/gitlab/examples/.gitlab-ci.yml"), "utf8");
    const ci = example
      .replace(/component: .*$/m, "component: $CI_SERVER_FQDN/$CI_PROJECT_PATH/skiff@$CI_COMMIT_SHA")
      .replace(/inputs:\n/, `inputs:\n      cli: ${process.execPath} ${cli}\n      executor: host\n`);
    expect(ci).toContain("@$CI_COMMIT_SHA");
    writeFileSync(join(project, ".gitlab-ci.yml"), ci);
    run("add", ".");
    run("commit", "-qm", "feature");

    const variables = {
      CI_PIPELINE_SOURCE: "merge_request_event",
      CI_MERGE_REQUEST_IID: "7",
      CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: "feature",
      CI_MERGE_REQUEST_TARGET_BRANCH_NAME: "main",
      CI_MERGE_REQUEST_DIFF_BASE_SHA: base,
      CI_API_V4_URL: gitlab.url,
      CI_PROJECT_ID: "42",
      SKIFF_GITLAB_TOKEN: TOKEN,
    };
    const args = [
      "--force-shell-executor",
      "--ignore-predefined-vars",
      Object.keys(variables).join(","),
      ...Object.entries(variables).flatMap(([k, v]) => ["--variable", `${k}=${v}`]),
    ];
    const state = join(project, ".skiff-state");
    result = await new Promise((resolve) => {
      const child = spawn(GITLAB_CI_LOCAL, args, {
        cwd: project,
        env: { ...process.env, SKIFF_STATE_DIR: state, CI: "1", FORCE_COLOR: "0" },
      });
      let output = "";
      child.stdout.on("data", (c: Buffer) => (output += c.toString()));
      child.stderr.on("data", (c: Buffer) => (output += c.toString()));
      child.on("close", (code) => resolve({ code: code ?? -1, output }));
    });
  }, 240_000);

  afterAll(async () => {
    await gitlab?.close();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  const artifact = (name: string) => {
    for (const dir of [".gitlab-ci-local/artifacts/skiff", ".gitlab-ci-local/builds/skiff", "."]) {
      const file = join(project, dir, name);
      if (existsSync(file)) return readFileSync(file, "utf8");
    }
    throw new Error(`${name} was not written:\n${result.output}`);
  };

  it("fails the job because a step failed, and reports only valid requests", () => {
    expect(result.code, result.output).not.toBe(0);
    expect(result.output).toContain("gitlab: event pull_request on refs/merge-requests/7/head");
    expect(result.output).toMatch(/skipped docs: no changed file matches docs\/\*\*/);
    expect(gitlab.invalid).toEqual([]);
  });

  it("sets one commit status per step with the right state, grouped under the pipeline", () => {
    const final = Object.fromEntries(gitlab.statuses.map((s) => [s.name, s.status]));
    expect(final).toEqual({
      ci: "failed",
      "ci / lint": "success",
      "ci / test": "failed",
      "ci / deploy": "skipped",
    });
    const names = gitlab.statuses.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const pipelines = new Set(gitlab.statuses.map((s) => s.pipeline_id));
    expect(pipelines.size).toBe(1);
    expect([...pipelines][0]).toEqual(expect.any(Number));
  });

  it("writes one merge-request note with the summary table and graph", () => {
    expect(gitlab.notes).toHaveLength(1);
    expect(gitlab.notes[0]!.merge_request_iid).toBe(7);
    expect(gitlab.notes[0]!.body).toContain("| | Step | Phase | Duration | Message |");
    expect(gitlab.notes[0]!.body).toContain("```mermaid");
  });

  it("writes a Code Quality report with the failing line", () => {
    const issues = JSON.parse(artifact("gl-code-quality-report.json")) as CodeQualityIssue[];
    expect(issues).toContainEqual(
      expect.objectContaining({
        check_name: "skiff/ci/test",
        location: { path: "src/app.ts", lines: { begin: 3 } },
      }),
    );
  });

  it("writes a JUnit report that validates against the schema", () => {
    const junit = artifact("skiff-junit.xml");
    expect(junit).toMatch(/<testcase name="test" classname="ci" time="[\d.]+" file="src\/app.ts" line="3">/);
    expect(junit).toContain("<failure");
    if (HAS_XMLLINT) expect(schemaErrors(junit)).toBe("");
  });

  it("never sends the token anywhere but its header", () => {
    expect(JSON.stringify(gitlab.requests)).not.toContain(TOKEN);
    expect(gitlab.notes[0]!.body).not.toContain(TOKEN);
  });
});
