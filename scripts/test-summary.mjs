// Prints one closing line, `Tests: N passed, N failed, N skipped`, from vitest's JSON report.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".ci-test-results.json";
const r = JSON.parse(readFileSync(file, "utf8"));
const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
process.exit(r.numFailedTests > 0 || r.numTotalTests === 0 ? 1 : 0);
