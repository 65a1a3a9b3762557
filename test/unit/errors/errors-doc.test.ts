import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERRORS_DOC, loadAllCodes, renderErrorsDoc } from "../../../scripts/errors-doc.js";
import { listErrorCodes } from "../../../runtime/errors/index.js";

describe("docs/errors.md", () => {
  it("lists every error code with its hint (regenerate with `npm run docs:errors`)", async () => {
    await loadAllCodes();
    expect(listErrorCodes().length).toBeGreaterThan(20);
    for (const c of listErrorCodes()) expect(c.hint.length, c.code).toBeGreaterThan(10);
    expect(readFileSync(ERRORS_DOC, "utf8")).toBe(renderErrorsDoc());
  }, 60_000);
});
