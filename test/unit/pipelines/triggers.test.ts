import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  compilePipeline,
  discoverPipelines,
  matchTriggers,
  parseList,
  readTriggers,
  selectPipelines,
  skipMarker,
  type GitContext,
} from "../../../src/pipelines/index.js";
import { Library } from "../../../runtime/spec/index.js";
import { SkiffError } from "../../../runtime/errors/index.js";

const push: GitContext = {
  event: "push",
  repository: "acme/app",
  sha: "0123456789abcdef0123456789abcdef01234567",
  ref: "refs/heads/main",
  branch: "main",
  targetBranch: "main",
  actor: "octocat",
  headCommitMessage: "Fix the build",
  changedFiles: ["src/app.ts", "README.md"],
};
const pr: GitContext = {
  ...push,
  event: "pull_request",
  action: "opened",
  ref: "refs/pull/7/merge",
  branch: "feature/x",
  targetBranch: "main",
  pullRequest: 7,
};

const match = (annotations: Record<string, string>, ctx: GitContext) =>
  matchTriggers(readTriggers(annotations), ctx);

describe("trigger annotations", () => {
  it("reads lists in every written form", () => {
    expect(parseList("push")).toEqual(["push"]);
    expect(parseList("push, pull_request")).toEqual(["push", "pull_request"]);
    expect(parseList(`[push, "pull_request", 'schedule']`)).toEqual(["push", "pull_request", "schedule"]);
    expect(parseList("[]")).toEqual([]);
  });

  it("runs on push, pull requests and manual runs when no event is named", () => {
    expect(match({}, push).run).toBe(true);
    expect(match({}, pr).run).toBe(true);
    expect(match({}, { ...push, event: "workflow_dispatch" }).run).toBe(true);
    expect(match({}, { ...push, event: "schedule" })).toEqual({
      run: false,
      reason: "event schedule is not one of push, pull_request, workflow_dispatch",
    });
    expect(match({}, { ...pr, event: "issue_comment", comment: "/retest" }).run).toBe(false);
  });

  it("matches events, target branches and refs", () => {
    const a = { "skiff.dev/on-event": "[pull_request]", "skiff.dev/on-target-branch": "main, release/*" };
    expect(match(a, pr).run).toBe(true);
    expect(match(a, push).run).toBe(false);
    expect(match(a, { ...pr, targetBranch: "release/1.2" }).run).toBe(true);
    expect(match(a, { ...pr, targetBranch: "develop" })).toEqual({
      run: false,
      reason: "target branch develop does not match main, release/*",
    });
    const tags = { "skiff.dev/on-event": "push", "skiff.dev/on-target-branch": "refs/tags/v*" };
    expect(match(tags, { ...push, ref: "refs/tags/v1.0.0", branch: "", targetBranch: "" }).run).toBe(true);
    expect(match(tags, push).run).toBe(false);
  });

  it("filters on changed paths, with ignores", () => {
    const src = { "skiff.dev/on-path-change": "src/**" };
    expect(match(src, push)).toEqual({ run: true, reason: "src/app.ts changed" });
    expect(match(src, { ...push, changedFiles: ["docs/a.md"] })).toEqual({
      run: false,
      reason: "no changed file matches src/**",
    });
    const ignoreDocs = { "skiff.dev/on-path-change-ignore": "**/*.md, docs/**" };
    expect(match(ignoreDocs, { ...push, changedFiles: ["README.md", "docs/x.txt"] })).toEqual({
      run: false,
      reason: "every changed file matches **/*.md, docs/**",
    });
    expect(match(ignoreDocs, push).run).toBe(true);
    const both = { ...src, "skiff.dev/on-path-change-ignore": "src/**/*.md" };
    expect(match(both, { ...push, changedFiles: ["src/notes.md"] }).run).toBe(false);
    expect(match(src, { ...push, changedFiles: undefined }).run).toBe(true);
    expect(match(src, { ...push, event: "workflow_dispatch", changedFiles: [] }).run).toBe(true);
    expect(match(src, { ...push, changedFiles: [".github/x", "src/.hidden"] }).run).toBe(true);
  });

  it("matches comments by regular expression, implying issue_comment", () => {
    const retest = { "skiff.dev/on-comment": "^/retest\\b" };
    const comment = { ...pr, event: "issue_comment", action: "created" };
    expect(match(retest, { ...comment, comment: "/retest" }).run).toBe(true);
    expect(match(retest, { ...comment, comment: "thanks!\n/retest please" }).run).toBe(true);
    expect(match(retest, { ...comment, comment: "please /retest" })).toEqual({
      run: false,
      reason: "the comment does not match ^/retest\\b",
    });
    expect(match(retest, pr).run).toBe(true);
    expect(match(retest, { ...comment, pullRequest: undefined, comment: "/retest" })).toEqual({
      run: false,
      reason: "the comment is not on a pull request",
    });
  });

  it("rejects unreadable annotations with their line", () => {
    const at = { file: "p.yaml", line: 4 };
    expect(() => readTriggers({ "skiff.dev/on-comment": "(" }, () => at)).toThrow(SkiffError);
    try {
      readTriggers({ "skiff.dev/on-event": "[]" }, () => at);
    } catch (e) {
      expect((e as SkiffError).code).toBe("SKF-PIPE-005");
      expect((e as SkiffError).position).toEqual(at);
    }
  });

  it("honours [skip ci] and GitHub's other spellings on pushes and pull requests only", () => {
    expect(skipMarker({ ...push, headCommitMessage: "docs: typo [skip ci]" })).toBe("[skip ci]");
    expect(skipMarker({ ...pr, headCommitMessage: "WIP [CI SKIP]" })).toBe("[ci skip]");
    expect(skipMarker({ ...push, headCommitMessage: "[skip actions]" })).toBe("[skip actions]");
    expect(skipMarker(push)).toBeUndefined();
    expect(
      skipMarker({ ...push, event: "workflow_dispatch", headCommitMessage: "[skip ci]" }),
    ).toBeUndefined();
  });
});

const repos: string[] = [];
afterAll(() => {
  for (const d of repos) rmSync(d, { recursive: true, force: true });
});

function repo(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "skiff-pipelines-"));
  repos.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const WORKFLOW = (name: string, annotations: string) => `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: ${name}
  annotations:
${annotations}
spec:
  entrypoint: main
  templates:
    - name: main
      container: {image: alpine, command: [echo, "{{workflow.parameters.git-sha}}"]}
`;

describe("discovery and selection", () => {
  it("finds Argo objects and pipelines in the folder, skipping config.yaml and dot folders", async () => {
    const dir = repo({
      ".skiff/build.yaml": WORKFLOW("build", '    skiff.dev/on-event: "push"'),
      ".skiff/nightly/cron.yaml": `apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  workflowSpec: {entrypoint: main, templates: [{name: main, container: {image: alpine}}]}
`,
      ".skiff/pr.yaml":
        "kind: Pipeline\nmetadata: {name: pr}\non: {events: [pull_request], branches: main}\ntasks: {t: {run: echo}}\n",
      ".skiff/config.yaml": "executor: host\n",
      ".skiff/.hidden/x.yaml": WORKFLOW("hidden", '    a: "b"'),
      ".skiff/notes.txt": "not yaml",
    });
    const found = await discoverPipelines(join(dir, ".skiff"));
    expect(found.problems).toEqual([]);
    expect(found.files.map((f) => f.slice(dir.length + 1))).toEqual([
      ".skiff/build.yaml",
      ".skiff/nightly/cron.yaml",
      ".skiff/pr.yaml",
    ]);
    const onPush = selectPipelines(found.manifests, push);
    expect(onPush.selected.map((c) => c.name)).toEqual(["build"]);
    expect(onPush.skipped.map((c) => [c.name, c.decision.reason])).toEqual([
      ["nightly", "event push is not one of schedule, workflow_dispatch"],
      ["pr", "event push is not one of pull_request"],
    ]);
    expect(selectPipelines(found.manifests, pr).selected.map((c) => c.name)).toEqual(["pr"]);
    expect(
      selectPipelines(found.manifests, { ...push, event: "schedule" }).selected.map((c) => c.name),
    ).toEqual(["nightly"]);
  });

  it("selects nothing on [skip ci], saying why", async () => {
    const dir = repo({ ".skiff/a.yaml": WORKFLOW("a", '    skiff.dev/on-event: "push"') });
    const found = await discoverPipelines(join(dir, ".skiff"));
    const sel = selectPipelines(found.manifests, { ...push, headCommitMessage: "chore: bump [skip ci]" });
    expect(sel.selected).toEqual([]);
    expect(sel.skipCi).toBe("[skip ci]");
    expect(sel.skipped[0]?.decision.reason).toBe("the head commit says [skip ci]");
  });

  it("reports a missing folder and bad annotations with their lines", async () => {
    const missing = await discoverPipelines("/nonexistent/.skiff");
    expect(missing.problems.map((p) => p.code)).toEqual(["SKF-PIPE-001"]);
    const dir = repo({ ".skiff/a.yaml": WORKFLOW("a", '    skiff.dev/on-comment: "(unclosed"') });
    const found = await discoverPipelines(join(dir, ".skiff"));
    const sel = selectPipelines(found.manifests, push);
    expect(sel.problems.map((p) => `${p.position?.line} ${p.code}`)).toEqual(["6 SKF-PIPE-005"]);
  });

  it("compiles a selected pipeline with the Git context as global parameters", async () => {
    const dir = repo({
      ".skiff/a.yaml": WORKFLOW("a", '    skiff.dev/on-event: "push, workflow_dispatch"').replace(
        "  entrypoint: main",
        "  entrypoint: main\n  arguments: {parameters: [{name: target, value: staging}]}",
      ),
    });
    const found = await discoverPipelines(join(dir, ".skiff"));
    const ctx = { ...push, event: "workflow_dispatch", inputs: { target: "prod", unrelated: "x" } };
    const sel = selectPipelines(found.manifests, ctx);
    const compiled = compilePipeline(sel.selected[0]!, Library.from(found.manifests), ctx, {
      parameters: { extra: "1" },
    });
    const params = Object.fromEntries(
      (compiled.workflow.spec.arguments?.parameters ?? []).map((p) => [p.name, p.value]),
    );
    expect(params).toMatchObject({
      "git-repository": "acme/app",
      "git-sha": push.sha,
      "git-ref": "refs/heads/main",
      "git-branch": "main",
      "git-target-branch": "main",
      "git-event": "workflow_dispatch",
      "git-pull-request": "",
      "git-actor": "octocat",
      target: "prod",
      extra: "1",
    });
    expect(params).not.toHaveProperty("unrelated");
  });
});
