import { GoDuration, isNumber, toFloat } from "./values.js";

/** Orders two values of comparable types; undefined when expr-lang cannot compare them. */
export function compare(a: unknown, b: unknown): number | undefined {
  if (isNumber(a) && isNumber(b)) {
    if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
    const x = toFloat(a);
    const y = toFloat(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  if (a instanceof GoDuration && b instanceof GoDuration) return Math.sign(a.nanoseconds - b.nanoseconds);
  return undefined;
}
