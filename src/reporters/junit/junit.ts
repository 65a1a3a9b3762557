import { workflowUiUrl } from "../links.js";
import { hostname } from "node:os";
import type { SkiffError } from "../../../runtime/errors/index.js";
import { repoPath } from "../github-checks/annotations.js";
import { maskSecrets } from "../github-checks/markdown.js";
import type { PipelineRecord, StepRecord } from "./collect.js";

/** How {@link renderJUnit} writes a report. */
export interface JUnitRenderOptions {
  /** Values masked everywhere (messages as well as logs). */
  secrets?: readonly string[];
  /** The `hostname` of every testsuite (default: this machine's). */
  hostname?: string;
  /** The `name` of `<testsuites>` (default `skiff`). */
  name?: string;
  /** The checkout: the file a rejected pipeline's problem names is shown relative to it. */
  workspace?: string;
  /** `skiff server`'s URL: each testcase's `<system-out>` opens with its node's page in the web UI. */
  serverUrl?: string;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  time: number;
}

/**
 * The run as JUnit XML in the Jenkins/Ant format (`<testsuites>` of `<testsuite>` of `<testcase>`): one
 * testsuite per workflow, one testcase per step with its duration, a `<failure>` (Failed) or `<error>`
 * (Error) with the step's message and the `file:line` lines its log named, `<skipped>` for skipped and
 * omitted steps, and the log tail as `<system-out>`. Each testcase carries `file` and `line` (the failing
 * line its log named, else its template's line), as pytest writes them and GitLab reads them. A pipeline
 * that could not start is a testsuite of one testcase in error.
 */
export function renderJUnit(records: readonly PipelineRecord[], options: JUnitRenderOptions = {}): string {
  const secrets = options.secrets ?? [];
  const host = options.hostname ?? hostname();
  const total: Counts = { tests: 0, failures: 0, errors: 0, skipped: 0, time: 0 };
  const suites: string[] = [];
  records.forEach((r, id) => {
    const { xml, counts } =
      "error" in r
        ? rejectedSuite(r, id, host, secrets, options.workspace)
        : workflowSuite(r, id, host, secrets, options.serverUrl);
    suites.push(xml);
    total.tests += counts.tests;
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.skipped += counts.skipped;
    total.time += counts.time;
  });
  const head = `<testsuites${attrs({
    name: options.name ?? "skiff",
    tests: total.tests,
    failures: total.failures,
    errors: total.errors,
    time: seconds(total.time),
  })}>`;
  return ['<?xml version="1.0" encoding="UTF-8"?>', head, ...suites, "</testsuites>", ""].join("\n");
}

function workflowSuite(
  r: Extract<PipelineRecord, { workflow: unknown }>,
  id: number,
  host: string,
  secrets: readonly string[],
  serverUrl: string | undefined,
): { xml: string; counts: Counts } {
  const wf = r.workflow;
  const counts: Counts = { tests: r.steps.length, failures: 0, errors: 0, skipped: 0, time: 0 };
  const cases = r.steps.map((s) => {
    if (s.node.phase === "Failed") counts.failures++;
    else if (s.node.phase === "Error") counts.errors++;
    else if (s.node.phase === "Skipped" || s.node.phase === "Omitted") counts.skipped++;
    return testcase(r.pipeline, s, secrets, workflowUiUrl(serverUrl, wf, s.node.id));
  });
  counts.time = durationMs(wf.status?.startedAt, wf.status?.finishedAt);
  const properties = [
    property("workflow", wf.metadata.name ?? ""),
    property("phase", wf.status?.phase ?? ""),
    ...(wf.status?.message ? [property("message", maskSecrets(wf.status.message, secrets))] : []),
  ];
  const head = `  <testsuite${attrs({
    name: r.pipeline,
    tests: counts.tests,
    failures: counts.failures,
    errors: counts.errors,
    skipped: counts.skipped,
    time: seconds(counts.time),
    timestamp: timestamp(wf.status?.startedAt),
    hostname: host,
    id,
    package: r.pipeline,
    file: r.file,
  })}>`;
  const xml = [head, "    <properties>", ...properties, "    </properties>", ...cases, "  </testsuite>"].join(
    "\n",
  );
  return { xml, counts };
}

function rejectedSuite(
  r: { pipeline: string; error: SkiffError },
  id: number,
  host: string,
  secrets: readonly string[],
  workspace: string | undefined,
): { xml: string; counts: Counts } {
  const problems =
    "problems" in r.error && Array.isArray(r.error.problems) ? (r.error.problems as SkiffError[]) : [r.error];
  const first = problems[0] ?? r.error;
  const body = problems
    .map(
      (p) => `${p.code} ${p.message}${p.location ? ` (${p.location})` : ""}${p.hint ? `\n  ${p.hint}` : ""}`,
    )
    .join("\n");
  const xml = [
    `  <testsuite${attrs({ name: r.pipeline, tests: 1, failures: 0, errors: 1, skipped: 0, time: "0.000", hostname: host, id, package: r.pipeline })}>`,
    `    <testcase${attrs({ name: "rejected", classname: r.pipeline, time: "0.000", file: first.position?.file && workspace ? repoPath(first.position.file, workspace) : first.position?.file, line: first.position?.line })}>`,
    `      <error${attrs({ message: maskSecrets(`${first.code} ${first.message}`, secrets), type: first.code })}>${text(maskSecrets(body, secrets))}</error>`,
    "    </testcase>",
    "  </testsuite>",
  ].join("\n");
  return { xml, counts: { tests: 1, failures: 0, errors: 1, skipped: 0, time: 0 } };
}

function testcase(pipeline: string, s: StepRecord, secrets: readonly string[], url?: string): string {
  const node = s.node;
  const head = `    <testcase${attrs({
    name: s.name,
    classname: pipeline,
    time: seconds(durationMs(node.startedAt, node.finishedAt)),
    file: s.location?.file,
    line: s.location?.line,
  })}`;
  const inner: string[] = [];
  const message = maskSecrets(node.message ?? node.phase, secrets);
  if (node.phase === "Failed" || node.phase === "Error") {
    const tag = node.phase === "Failed" ? "failure" : "error";
    const lines = s.annotations
      .filter((a) => a.annotation_level !== "notice")
      .map(
        (a) =>
          `${a.path}:${a.start_line}${a.start_column !== undefined ? `:${a.start_column}` : ""}: ${a.message}`,
      );
    const body = lines.length > 0 ? text(lines.join("\n")) : "";
    inner.push(`      <${tag}${attrs({ message, type: node.phase })}>${body}</${tag}>`);
  } else if (node.phase === "Skipped" || node.phase === "Omitted") {
    inner.push(`      <skipped${attrs({ message })}/>`);
  }
  // The node's page in the web UI opens the output: the schema has no place for a testcase's properties.
  const link = url ? `Web UI: ${url}\n` : "";
  if (s.logTail.length > 0 || link) {
    const note = s.omitted > 0 ? `(${s.omitted} earlier lines not shown)\n` : "";
    inner.push(`      <system-out>${text(link + note + s.logTail.join("\n"))}</system-out>`);
  }
  return inner.length === 0 ? `${head}/>` : [`${head}>`, ...inner, "    </testcase>"].join("\n");
}

function property(name: string, value: string): string {
  return `      <property${attrs({ name, value })}/>`;
}

function durationMs(start: string | undefined, end: string | undefined): number {
  if (!start || !end) return 0;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

/** Ant writes local ISO times without a zone; an RFC 3339 time is kept as it is, without fractions. */
function timestamp(iso: string | undefined): string | undefined {
  return iso?.replace(/\.\d+Z$/, "Z");
}

function attrs(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => ` ${k}="${escapeXml(String(v), true)}"`)
    .join("");
}

function text(s: string): string {
  return escapeXml(s, false);
}

// XML 1.0 has no way to write these characters (terminal colour codes are the usual ones in logs).
const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*[A-Za-z]`, "g");
const INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

/** Escapes text for XML, dropping characters XML 1.0 cannot hold; attributes keep their line breaks. */
export function escapeXml(s: string, attribute: boolean): string {
  let out = s
    .replace(ANSI, "")
    .replace(INVALID, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
  if (attribute)
    out = out.replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
  return out;
}
