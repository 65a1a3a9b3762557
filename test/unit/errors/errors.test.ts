import { describe, expect, it } from "vitest";
import {
  defineErrorCodes,
  describeErrorCode,
  formatPosition,
  SkiffAggregateError,
  SkiffError,
  toSkiffError,
} from "../../../runtime/errors/index.js";

describe("SkiffError", () => {
  it("takes its hint from the catalogue when none is given", () => {
    defineErrorCodes({ "SKF-TEST-001": { title: "Test", hint: "do the thing" } });
    const e = new SkiffError("SKF-TEST-001", "it broke", {
      position: { file: "a.yaml", line: 3, column: 5 },
    });
    expect(e.hint).toBe("do the thing");
    expect(e.location).toBe("a.yaml:3:5");
    expect(e.toJSON()).toMatchObject({ code: "SKF-TEST-001", file: "a.yaml", line: 3, column: 5 });
    expect(describeErrorCode("SKF-TEST-001")?.title).toBe("Test");
  });

  it("rejects malformed and duplicate codes", () => {
    expect(() => defineErrorCodes({ "BAD-1": { title: "", hint: "" } })).toThrow(/malformed/);
    defineErrorCodes({ "SKF-TEST-002": { title: "x", hint: "y" } });
    expect(() => defineErrorCodes({ "SKF-TEST-002": { title: "x", hint: "y" } })).toThrow(/twice/);
  });

  it("wraps foreign errors as internal errors and keeps aggregates' problems", () => {
    expect(toSkiffError(new TypeError("boom")).code).toBe("SKF-CORE-001");
    const agg = new SkiffAggregateError("SKF-CORE-001", [new SkiffError("SKF-CORE-002", "a")]);
    expect(agg.problems).toHaveLength(1);
    expect(agg.message).toBe("1 problem found");
    expect(formatPosition({ file: "x", line: 2 })).toBe("x:2");
    expect(formatPosition(undefined)).toBeUndefined();
  });
});
