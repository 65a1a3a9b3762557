import { formatPosition, SkiffAggregateError, type SkiffError } from "../../runtime/errors/index.js";

/** Prints a coded error (and each problem of an aggregate) to stderr in the `file:line:col: CODE message` form. */
export function printError(e: SkiffError, stream: NodeJS.WritableStream = process.stderr): void {
  const problems = e instanceof SkiffAggregateError ? e.problems : [e];
  for (const p of problems) {
    const where = formatPosition(p.position);
    stream.write(`${where ? where + ": " : ""}${p.code} ${p.message}\n`);
    if (p.hint) stream.write(`  hint: ${p.hint}\n`);
  }
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks: the tables of the list verbs. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map(
      (r) =>
        r
          .map((c, i) => c.padEnd(widths[i] ?? 0))
          .join("  ")
          .trimEnd() + "\n",
    )
    .join("");
}
