/**
 * Coded errors. Every error Skiff reports to a user carries a stable code (`SKF-<AREA>-<NNN>`), a message,
 * a hint that says what to do, and, where it applies, the file/line/column it came from. Inner code throws
 * these; each entry point (CLI, Action, server) decides how to print them.
 */

/** A place in a source file. Lines and columns are 1-based. */
export interface SourcePosition {
  file?: string;
  line?: number;
  column?: number;
}

/** One entry of the code catalogue: `docs/errors.md` is generated from these. */
export interface ErrorCodeInfo {
  code: string;
  title: string;
  hint: string;
}

const catalogue = new Map<string, ErrorCodeInfo>();

/**
 * Registers the codes of one area. Each area (spec, expr, controller, executors...) keeps its codes in its
 * own `codes.ts` and calls this once, so the catalogue and the docs cannot drift.
 */
export function defineErrorCodes<const T extends Record<string, { title: string; hint: string }>>(
  codes: T,
): { [K in keyof T]: K } {
  const out: Record<string, string> = {};
  for (const [code, info] of Object.entries(codes)) {
    if (!/^SKF-[A-Z]+-\d{3}$/.test(code)) throw new Error(`malformed error code ${code}`);
    if (catalogue.has(code)) throw new Error(`error code ${code} defined twice`);
    catalogue.set(code, { code, ...info });
    out[code] = code;
  }
  return out as { [K in keyof T]: K };
}

/** All registered codes (for docs and tests). */
export function listErrorCodes(): ErrorCodeInfo[] {
  return [...catalogue.values()].sort((a, b) => a.code.localeCompare(b.code));
}

export function describeErrorCode(code: string): ErrorCodeInfo | undefined {
  return catalogue.get(code);
}

export interface SkiffErrorOptions {
  hint?: string;
  position?: SourcePosition;
  /** JSON path of the offending field inside the object, e.g. `spec.templates[2].dag.tasks[0].depends`. */
  path?: string;
  cause?: unknown;
}

/** The base of every error Skiff reports: thrown when a user-facing operation cannot go on. */
export class SkiffError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly position: SourcePosition | undefined;
  readonly path: string | undefined;

  constructor(code: string, message: string, options: SkiffErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "SkiffError";
    this.code = code;
    this.hint = options.hint ?? catalogue.get(code)?.hint;
    this.position = options.position;
    this.path = options.path;
  }

  /** `file:line:col` when known. */
  get location(): string | undefined {
    return formatPosition(this.position);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      file: this.position?.file,
      line: this.position?.line,
      column: this.position?.column,
      path: this.path,
    };
  }
}

/** Thrown when one or more problems are found at once (validation): each problem is a SkiffError. */
export class SkiffAggregateError extends SkiffError {
  readonly problems: SkiffError[];

  constructor(code: string, problems: SkiffError[], message?: string) {
    super(code, message ?? `${problems.length} problem${problems.length === 1 ? "" : "s"} found`);
    this.name = "SkiffAggregateError";
    this.problems = problems;
  }
}

export function formatPosition(p: SourcePosition | undefined): string | undefined {
  if (!p?.file && p?.line === undefined) return undefined;
  let s = p.file ?? "<input>";
  if (p.line !== undefined) s += `:${p.line}`;
  if (p.line !== undefined && p.column !== undefined) s += `:${p.column}`;
  return s;
}

export function isSkiffError(e: unknown): e is SkiffError {
  return e instanceof SkiffError;
}

export const CORE_CODES = defineErrorCodes({
  "SKF-CORE-001": {
    title: "Internal error",
    hint: "This is a bug in Skiff. Please report it with the command you ran and the input file.",
  },
  "SKF-CORE-002": {
    title: "File not readable",
    hint: "Check that the path exists and that you may read it.",
  },
});

/** Wraps anything thrown into a SkiffError, so entry points only ever print coded errors. */
export function toSkiffError(e: unknown): SkiffError {
  if (e instanceof SkiffError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new SkiffError("SKF-CORE-001", message, { cause: e });
}
