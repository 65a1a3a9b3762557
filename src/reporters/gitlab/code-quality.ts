import { createHash } from "node:crypto";
import type { PipelineRecord } from "../junit/collect.js";

/**
 * One issue of GitLab's Code Quality report (a subset of the CodeClimate format GitLab reads), shown on the
 * merge request's diff at its line.
 * https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format
 */
export interface CodeQualityIssue {
  description: string;
  check_name: string;
  /** Unique per issue: GitLab compares reports of the source and target branches by it. */
  fingerprint: string;
  severity: "info" | "minor" | "major" | "critical" | "blocker";
  location: { path: string; lines: { begin: number } };
}

const SEVERITY = { failure: "major", warning: "minor", notice: "info" } as const;

/**
 * The Code Quality report of a run: every `file:line` line the steps' logs named, and each failed step at
 * the line the failure points at (its log's failing line, else its template's line).
 */
export function codeQualityReport(records: readonly PipelineRecord[]): CodeQualityIssue[] {
  const issues: CodeQualityIssue[] = [];
  const seen = new Set<string>();
  const add = (issue: Omit<CodeQualityIssue, "fingerprint">) => {
    const fingerprint = createHash("sha256")
      .update(
        [issue.check_name, issue.location.path, issue.location.lines.begin, issue.description].join("\u0000"),
      )
      .digest("hex");
    if (seen.has(fingerprint)) return;
    seen.add(fingerprint);
    issues.push({ ...issue, fingerprint });
  };
  for (const r of records) {
    if ("error" in r) {
      const problems =
        "problems" in r.error && Array.isArray(r.error.problems)
          ? (r.error.problems as (typeof r.error)[])
          : [r.error];
      for (const p of problems) {
        const file = p.position?.file;
        if (file && p.position?.line !== undefined && !file.startsWith("/"))
          add({
            description: `${p.code} ${p.message}`,
            check_name: `skiff/${r.pipeline}`,
            severity: "critical",
            location: { path: file, lines: { begin: p.position.line } },
          });
      }
      continue;
    }
    for (const s of r.steps) {
      const check = `skiff/${r.pipeline}/${s.name}`;
      const failed = s.node.phase === "Failed" || s.node.phase === "Error";
      if (failed && s.location && !s.location.fromLog)
        add({
          description: `Step ${s.name} of ${r.pipeline} failed: ${s.node.message ?? s.node.phase}`,
          check_name: check,
          severity: "critical",
          location: { path: s.location.file, lines: { begin: s.location.line } },
        });
      for (const a of s.annotations) {
        // A line without `error:`/`warning:` is as bad as the step's end.
        const level = a.annotation_level === "failure" && !failed ? "warning" : a.annotation_level;
        add({
          description: a.message,
          check_name: check,
          severity: SEVERITY[level],
          location: { path: a.path, lines: { begin: a.start_line } },
        });
      }
    }
  }
  return issues;
}
