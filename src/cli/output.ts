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
