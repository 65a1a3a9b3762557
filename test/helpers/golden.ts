import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), "../fixtures/golden");

/**
 * Compares output with `test/fixtures/golden/<name>`. `UPDATE_GOLDEN=1 npm test` rewrites the files:
 * do that deliberately and review the diff.
 */
export function expectGolden(name: string, actual: string): void {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    if (process.env.CI && !existsSync(file))
      throw new Error(`golden file ${name} is missing (run UPDATE_GOLDEN=1 npm test)`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
  }
  expect(actual).toBe(readFileSync(file, "utf8"));
}
