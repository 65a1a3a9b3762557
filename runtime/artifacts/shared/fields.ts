import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ART_CODES } from "../codes.js";
import { ARTD_CODES } from "./codes.js";

/** The artifact's storage block for `field` (e.g. `s3`), or SKF-ART-005 when it has none. */
export function blockOf(artifact: Artifact, field: string): Record<string, unknown> {
  const block = (artifact as unknown as Record<string, unknown>)[field];
  if (typeof block !== "object" || block === null) {
    throw new SkiffError(ART_CODES["SKF-ART-005"], `artifact '${artifact.name}' has no '${field}' location`);
  }
  return block as Record<string, unknown>;
}

/** A string field the location cannot do without. */
export function requireString(block: Record<string, unknown>, field: string, where: string): string {
  const v = block[field];
  if (typeof v !== "string" || v === "") {
    throw new SkiffError(ARTD_CODES["SKF-ARTD-004"], `${where}.${field} is required`);
  }
  return v;
}

export function optionalString(block: Record<string, unknown>, field: string): string | undefined {
  const v = block[field];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** Argo fields this driver does not implement: refused rather than silently ignored. */
export function rejectUnsupported(
  block: Record<string, unknown>,
  fields: readonly string[],
  where: string,
): void {
  for (const f of fields) {
    const v = block[f];
    if (v !== undefined && v !== null && v !== "" && v !== false) {
      throw new SkiffError(ARTD_CODES["SKF-ARTD-007"], `${where}.${f} is not supported by Skiff's driver`);
    }
  }
}

/** Whether a storage error means the credentials were refused. */
export function isAuthStatus(status: number | undefined): boolean {
  return status === 401 || status === 403;
}

/** Wraps a backend failure in a coded error without losing the backend's message. */
export function storageError(where: string, action: string, e: unknown, status?: number): SkiffError {
  if (e instanceof SkiffError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = isAuthStatus(status) ? ARTD_CODES["SKF-ARTD-006"] : ARTD_CODES["SKF-ARTD-005"];
  return new SkiffError(code, `${action} ${where} failed: ${message || `status ${status}`}`, {
    cause: e,
  });
}
