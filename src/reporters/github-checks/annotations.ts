import { isAbsolute, relative, sep } from "node:path";
import type { SourcePosition } from "../../../runtime/errors/index.js";
import type { CheckAnnotation } from "./client.js";
import { maskSecrets } from "./markdown.js";

/** GitHub takes at most this many annotations in one create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;

// `src/a.ts:10:5: error: message`, `src/a.ts:10: message` (gcc, eslint --format unix, go vet, pytest, ruff).
const COLON_FORM =
  /^\s*(?:[A-Z]+:\s+)?((?:[A-Za-z]:)?[^\s:()]+\.[A-Za-z0-9]+):(\d+)(?::(\d+))?:\s*(?:(error|warning|warn|note|info|notice)\b\s*:?\s*)?(.+?)\s*$/i;
// `src/a.ts(10,5): error TS2322: message` (tsc, msbuild).
const PAREN_FORM =
  /^\s*((?:[A-Za-z]:)?[^\s:()]+\.[A-Za-z0-9]+)\((\d+)(?:,(\d+))?\):\s*(?:(error|warning|note|info)\b\s*)?(.+?)\s*$/i;
// Colour codes are stripped: compilers and test runners colour their output even in CI.
const ANSI = new RegExp(String.raw`\u001b\[[0-9;]*m`, "g");

/**
 * Reads a `file:line[:col]: message` (or `file(line,col): message`) log line into an annotation on that file,
 * or undefined. Paths are made relative to the checkout; paths outside it, URLs and paths with `..` are not
 * annotations GitHub could place.
 */
export function parseLogAnnotation(
  line: string,
  options: { workspace: string; defaultLevel: CheckAnnotation["annotation_level"]; title?: string },
): CheckAnnotation | undefined {
  const text = line.replace(ANSI, "");
  if (/^\s*\S+:\/\//.test(text)) return undefined;
  const m = COLON_FORM.exec(text) ?? PAREN_FORM.exec(text);
  if (!m) return undefined;
  const [, file, lineText, colText, severity, message] = m;
  const path = repoPath(file!, options.workspace);
  if (path === undefined || message === undefined) return undefined;
  const lineNo = Number(lineText);
  if (!(lineNo >= 1)) return undefined;
  const sev = severity?.toLowerCase();
  const level: CheckAnnotation["annotation_level"] =
    sev === "warning" || sev === "warn"
      ? "warning"
      : sev === "note" || sev === "info" || sev === "notice"
        ? "notice"
        : sev === "error"
          ? "failure"
          : options.defaultLevel;
  const a: CheckAnnotation = {
    path,
    start_line: lineNo,
    end_line: lineNo,
    annotation_level: level,
    // GitHub takes 64 KB; characters may take up to 4 bytes.
    message: message.slice(0, 16 * 1024),
  };
  if (colText !== undefined) {
    a.start_column = Number(colText);
    a.end_column = Number(colText);
  }
  if (options.title) a.title = options.title.slice(0, 255);
  return a;
}

/** A path relative to the checkout, with `/` separators; undefined when it points outside. */
export function repoPath(file: string, workspace: string): string | undefined {
  const rel = isAbsolute(file) ? relative(workspace, file) : file.replace(/^\.\//, "");
  if (rel === "" || rel.startsWith("..") || isAbsolute(rel)) return undefined;
  return rel.split(sep).join("/");
}

/** The annotation of a failed step, at its template's line in the pipeline file. */
export function stepFailureAnnotation(
  position: SourcePosition | undefined,
  workspace: string,
  step: string,
  message: string,
  secrets: readonly string[],
): CheckAnnotation | undefined {
  if (!position?.file || position.line === undefined) return undefined;
  const path = repoPath(position.file, workspace);
  if (path === undefined) return undefined;
  return {
    path,
    start_line: position.line,
    end_line: position.line,
    annotation_level: "failure",
    title: `Step ${step} failed`.slice(0, 255),
    message: maskSecrets(message || "failed", secrets).slice(0, 16 * 1024),
  };
}

/** A workflow command (`::error file=..,line=..::message`) for GitHub to show when check runs cannot be used. */
export function workflowCommand(a: CheckAnnotation): string {
  const kind =
    a.annotation_level === "failure" ? "error" : a.annotation_level === "warning" ? "warning" : "notice";
  const props = [`file=${escapeProperty(a.path)}`, `line=${a.start_line}`];
  if (a.end_line !== a.start_line) props.push(`endLine=${a.end_line}`);
  if (a.start_column !== undefined) props.push(`col=${a.start_column}`);
  if (a.title) props.push(`title=${escapeProperty(a.title)}`);
  return `::${kind} ${props.join(",")}::${escapeData(a.message)}`;
}

/**
 * The lines that show annotations as workflow commands, in the order given: at most `limit` of each level
 * (GitHub shows no more of one step), then how many were left out.
 */
export function workflowCommands(annotations: readonly CheckAnnotation[], limit: number): string[] {
  const counts = { failure: 0, warning: 0, notice: 0 };
  const lines: string[] = [];
  let dropped = 0;
  for (const a of annotations) {
    if (counts[a.annotation_level]++ >= limit) dropped++;
    else lines.push(workflowCommand(a));
  }
  if (dropped > 0) lines.push(`${dropped} more annotations are in the step logs above.`);
  return lines;
}

function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}
