import { JSONPath } from "jsonpath-plus";
import { EvalError } from "./exprlang/values.js";

/**
 * A path selects possibly many values when it uses a wildcard, recursive descent, a filter, a slice or a
 * union; evilmonkeyinc/jsonpath (Argo's library) returns an array for those and the bare value otherwise.
 */
function isIndefinite(path: string): boolean {
  if (path.includes("..") || path.includes("*")) return true;
  const brackets = path.match(/\[[^\]]*\]/g) ?? [];
  return brackets.some((b) => /^\[\s*\?/.test(b) || (/[:,]/.test(b) && !/^\[\s*['"]/.test(b)));
}

/** Argo's `jsonpath(jsonText, path)`: decodes the JSON text and queries it. */
export function jsonPath(json: unknown, path: unknown): unknown {
  if (typeof json !== "string") throw new EvalError(`jsonpath: expected a JSON string, got ${typeof json}`);
  if (typeof path !== "string") throw new EvalError("jsonpath: expected a path string");
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (e) {
    throw new EvalError(`invalid character in JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  let results: unknown[];
  try {
    results = JSONPath({ path, json: data as object, wrap: true, eval: "safe" }) as unknown[];
  } catch (e) {
    throw new EvalError(`jsonpath: invalid path ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (isIndefinite(path)) return results;
  if (results.length === 0) throw new EvalError(`jsonpath: nothing found at ${path}`);
  return results[0];
}
