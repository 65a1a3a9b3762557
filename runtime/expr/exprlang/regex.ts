import { RE2JS } from "re2js";
import { EvalError } from "./values.js";

const cache = new Map<string, RE2JS>();

/** Compiles a Go RE2 pattern (cached); throws EvalError with Go's message on a bad pattern. */
export function compileRegex(pattern: string): RE2JS {
  let re = cache.get(pattern);
  if (!re) {
    try {
      re = RE2JS.compile(pattern);
    } catch (e) {
      throw new EvalError(e instanceof Error ? e.message : String(e));
    }
    if (cache.size > 500) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** Go's regexp.MatchString: unanchored search. */
export function regexMatch(pattern: string, text: string): boolean {
  return compileRegex(pattern).matcher(text).find();
}
