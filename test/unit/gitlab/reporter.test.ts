import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import type { Workflow } from "../../../runtime/spec/types.js";
import type { RunEvent } from "../../../src/reporters/events.js";
import {
  createGitbeakerClient,
  createGitLabReporter,
  type CodeQualityIssue,
  type GitLabReporterOptions,
} from "../../../src/reporters/gitlab/index.js";
import { startFakeGitLab, type FakeGitLab } from "../../../src/testing/fake-gitlab.js";
import { HAS_XMLLINT, schemaErrors } from "../../helpers/junit/schema.js";
import { failingRun, SECRET, WORKSPACE } from "../../helpers/junit/run-events.js";

const TOKEN = "glpat-secret-123456";
const SHA = "0123456789abcdef0123456789abcdef01234567";

let gitlab: FakeGitLab;
let dir: string;
beforeEach(async () => {
  gitlab = await startFakeGitLab({ token: TOKEN, mergeRequests: [7] });
  dir = mkdtempSync(join(tmpdir(), "skiff-gitlab-"));
});
afterEach(async () => {
  await gitlab.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The failing run with the live events before its end: the workflow starts, lint runs. */
function liveRun(): RunEvent[] {
  const events = failingRun();
  const completed = events.at(-1) as Extract<RunEvent, { type: "workflow-completed" }>;
  const running: Workflow = structuredClone(completed.workflow);
  running.status = { phase: "Running", startedAt: running.status!.startedAt, nodes: {} };
  const lint = { ...completed.workflow.status!.nodes!["ci-abcde-lint"]!, phase: "Running" as const };
  delete lint.finishedAt;
  running.status.nodes = { [lint.id]: lint };
  const live: RunEvent[] = [
    { type: "controller", index: 0, pipeline: "ci", event: { type: "workflow-started", workflow: running } },
    {
      type: "controller",
      index: 0,
      pipeline: "ci",
      event: { type: "node-updated", workflow: running, node: lint },
    },
  ];
  return [events[0]!, ...live, ...events.slice(1)];
}

function reporter(extra: Partial<GitLabReporterOptions> = {}, log: string[] = []) {
  return createGitLabReporter({
    client: createGitbeakerClient({ apiUrl: gitlab.url, token: TOKEN, projectId: 42 }),
    clock: new SystemClock(),
    sha: SHA,
    ref: "feature",
    pipelineId: 99,
    mergeRequestIid: 7,
    workspace: WORKSPACE,
    secrets: [TOKEN, SECRET],
    serverUrl: "https://skiff.example.com/",
    codeQualityFile: join(dir, "gl-code-quality-report.json"),
    junitFile: join(dir, "junit.xml"),
    limits: { baseBackoffMs: 5 },
    log: (l) => log.push(l),
    ...extra,
  });
}

async function play(r: ReturnType<typeof reporter>, events = liveRun()): Promise<void> {
  for (const e of events) {
    r.onEvent(e);
    // Let the reporter's requests interleave with the run, as they would in a real one.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await r.finish();
}

describe("GitLab reporter", () => {
  it("sets a commit status per workflow and per step, notes the merge request, writes both reports", async () => {
    const log: string[] = [];
    await play(reporter({}, log));
    expect(gitlab.invalid).toEqual([]);
    expect(log).toEqual([]);
    const byName = Object.fromEntries(gitlab.statuses.map((s) => [s.name, s]));
    expect(Object.keys(byName).sort()).toEqual(["ci", "ci / deploy", "ci / lint", "ci / test"]);
    expect(byName["ci"]!.history).toEqual(["running", "failed"]);
    expect(byName["ci / lint"]!.history.at(-1)).toBe("success");
    expect(byName["ci / test"]!.history).toEqual(["failed"]);
    expect(byName["ci / deploy"]!.history).toEqual(["skipped"]);
    for (const s of gitlab.statuses) {
      expect(s.pipeline_id).toBe(99);
      expect(s.ref).toBe("feature");
      expect(s.target_url).toMatch(/^https:\/\/skiff\.example\.com\/workflows\/default\/ci-abcde/);
    }
    expect(byName["ci / test"]!.target_url).toBe(
      "https://skiff.example.com/workflows/default/ci-abcde?nodeId=ci-abcde-test",
    );

    expect(gitlab.notes).toHaveLength(1);
    const note = gitlab.notes[0]!.body;
    expect(note).toMatch(/^<!-- skiff-report:skiff -->/);
    expect(note).toContain("| | Step | Phase | Duration | Message |");
    expect(note).toContain("```mermaid");
    expect(note).toContain("❌ 1 of 1 pipelines failed");

    const quality = JSON.parse(
      readFileSync(join(dir, "gl-code-quality-report.json"), "utf8"),
    ) as CodeQualityIssue[];
    expect(quality).toContainEqual(
      expect.objectContaining({
        check_name: "skiff/ci/test",
        severity: "major",
        location: { path: "src/app.ts", lines: { begin: 12 } },
      }),
    );
    expect(new Set(quality.map((q) => q.fingerprint)).size).toBe(quality.length);
    const junit = readFileSync(join(dir, "junit.xml"), "utf8");
    expect(junit).toContain(
      '<testcase name="test" classname="ci" time="31.000" file="src/app.ts" line="12">',
    );
    if (HAS_XMLLINT) expect(schemaErrors(junit)).toBe("");

    const sent = JSON.stringify(gitlab.requests) + note + junit + JSON.stringify(quality);
    expect(sent).not.toContain(SECRET);
    expect(sent).not.toContain(TOKEN);
  });

  it("updates its note on a re-run instead of adding another", async () => {
    await play(reporter());
    gitlab.notes.push({ id: 5, merge_request_iid: 7, body: "LGTM", created_at: "", updated_at: "" });
    const first = gitlab.notes[0]!.id;
    await play(reporter({ pipelineId: 100 }));
    expect(gitlab.notes.map((n) => n.id)).toEqual([first, 5]);
    expect(gitlab.requests.filter((r) => r.operation === "notes/create")).toHaveLength(1);
    expect(gitlab.requests.filter((r) => r.operation === "notes/update")).toHaveLength(1);
  });

  it("retries rate limits and server errors with backoff", async () => {
    gitlab.script({ operation: "statuses/create", status: 429, headers: { "retry-after": "0" }, times: 12 });
    gitlab.script({ operation: "notes/list", status: 503, times: 2 });
    const log: string[] = [];
    await play(reporter({}, log));
    expect(log).toEqual([]);
    expect(gitlab.statuses.find((s) => s.name === "ci")!.status).toBe("failed");
    expect(gitlab.notes).toHaveLength(1);
    expect(gitlab.requests.filter((r) => r.status === 503)).toHaveLength(2);
  });

  it("gives up on GitLab when the token is refused, and still writes the reports", async () => {
    const log: string[] = [];
    await play(
      reporter({ client: createGitbeakerClient({ apiUrl: gitlab.url, token: "wrong", projectId: 42 }) }, log),
    );
    expect(gitlab.statuses).toEqual([]);
    expect(gitlab.requests).toHaveLength(1);
    expect(log.join("\n")).toMatch(/SKF-GL-001 GitLab answered 401/);
    expect(readFileSync(join(dir, "junit.xml"), "utf8")).toContain("<testsuites");
    expect(readFileSync(join(dir, "gl-code-quality-report.json"), "utf8")).toContain("src/app.ts");
  });

  it.each([403, 500, 502, 503])(
    "never fails nor stalls the run when GitLab answers %i to everything",
    async (status) => {
      gitlab.script({ status, times: Infinity, message: `down, token ${TOKEN}` });
      const log: string[] = [];
      const r = reporter({}, log);
      await play(r);
      expect(r.fellBack).toBe(true);
      expect(log.join("\n")).toMatch(status === 403 ? /SKF-GL-001/ : /SKF-GL-002/);
      expect(log.join("\n")).not.toContain(TOKEN);
      expect(readFileSync(join(dir, "junit.xml"), "utf8")).toContain("<testsuites");
    },
  );

  it("gives up within its finish timeout when GitLab does not answer in time", async () => {
    gitlab.script({ status: 503, times: Infinity });
    const log: string[] = [];
    const r = reporter(
      { limits: { baseBackoffMs: 60_000, maxRetryWaitMs: 120_000 }, finishTimeoutMs: 50 },
      log,
    );
    await play(r);
    expect(r.fellBack).toBe(true);
    expect(log.join("\n")).toMatch(/SKF-GL-002 GitLab did not take every update/);
  });
});
