import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import {
  checkExpressionSyntax,
  evaluateDepends,
  evaluateExpression,
  evaluateWhen,
  substitute,
} from "../../../runtime/expr/index.js";

/** Text made of the characters the languages care about, so inputs reach deep into the parsers. */
const exprText = fc
  .array(
    fc.constantFrom(
      "a",
      "b.c",
      "1",
      "2.5",
      "'s'",
      '"t"',
      " ",
      "(",
      ")",
      "[",
      "]",
      "{",
      "}",
      "#",
      ".",
      ",",
      ":",
      "?",
      "??",
      "+",
      "-",
      "*",
      "/",
      "%",
      "**",
      "==",
      "!=",
      "<",
      ">=",
      "=~",
      "!",
      "&&",
      "||",
      "in",
      "not",
      "map",
      "filter",
      "true",
      "nil",
      "0x",
      "\\",
      "|",
      "let",
      "=",
      ";",
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(""));

function onlySkiffErrors(run: () => unknown): void {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(SkiffError);
  }
}

describe("parsers never crash on arbitrary input", () => {
  it("evaluateWhen throws only coded errors", () => {
    fc.assert(
      fc.property(exprText, (text) => onlySkiffErrors(() => evaluateWhen(text))),
      { numRuns: 400, seed: 42 },
    );
  });

  it("evaluateExpression throws only coded errors", () => {
    fc.assert(
      fc.property(exprText, (text) =>
        onlySkiffErrors(() => evaluateExpression(text, { a: "1", "b.c": "2" })),
      ),
      { numRuns: 400, seed: 42 },
    );
  });

  it("evaluateDepends throws only coded errors", () => {
    fc.assert(
      fc.property(exprText, (text) => onlySkiffErrors(() => evaluateDepends(text, {}))),
      { numRuns: 400, seed: 42 },
    );
  });

  it("substitute throws only coded errors and checkExpressionSyntax never throws", () => {
    fc.assert(
      fc.property(exprText, (text) => {
        onlySkiffErrors(() => substitute(`x {{=${text}}} {{${text}}}`, { a: "1" }));
        for (const kind of ["expr", "govaluate", "depends"] as const)
          expect(Array.isArray(checkExpressionSyntax(text, kind))).toBe(true);
      }),
      { numRuns: 400, seed: 42 },
    );
  });
});
