import { describe, expect, it } from "vitest";
import { checkExpressionSyntax, evaluateWhen } from "../../../runtime/expr/index.js";
import { SkiffError } from "../../../runtime/errors/index.js";

function whenError(expression: string): SkiffError {
  try {
    evaluateWhen(expression);
  } catch (e) {
    if (e instanceof SkiffError) return e;
    throw e;
  }
  throw new Error(`expected '${expression}' to fail`);
}

describe("evaluateWhen: values", () => {
  it.each([
    ["heads == heads", true],
    ["heads == tails", false],
    ["Succeeded != Succeeded", false],
    ['"Succeeded" == Succeeded', true],
    ["foo == 'foo'", true],
    ["[my var] == 'my var'", true],
    ["héllo == héllo", true],
    ["  heads   ==   heads  ", true],
    ["true", true],
    ["false", false],
    ["", true],
    ["1 == 1", true],
    ["1 == 1.0", true],
    ['1 == "1"', false],
    ["true == 'true'", false],
    ["5 > 3", true],
    ["10 < 9", false],
    ["'10' < '9'", true],
    ["b > a", true],
    ["3 >= 3 && 3 <= 3", true],
    ["1 + 2 == 3", true],
    ["'abc' + 1 == 'abc1'", true],
    ["'x' + 1.5 == 'x1.5'", true],
    ["2 ** 3 == 8", true],
    ["2 ** 3 ** 2 == 64", true],
    ["7 % 3 == 1", true],
    ["10 - 2 - 3 == 5", true],
    ["12 / 2 / 3 == 2", true],
    ["1 / 0 > 1000", true],
    ["-1 < 0", true],
    ["!true == false", true],
    ["~0 == -1", true],
    ["6 & 3 == 2", true],
    ["6 | 1 == 7", true],
    ["6 ^ 3 == 5", true],
    ["1 << 2 == 4", true],
    ["8 >> 1 == 4", true],
    ["0x10 == 16", true],
    ["true && false", false],
    ["true || false", true],
    ["false && undefinedthing", false],
    ["1 IN (1, 2)", true],
    ["3 in (1, 2)", false],
    ["b in (a, b, c)", true],
    ["4 > 3 ? true : false", true],
    ["4 < 3 ? true : false", false],
    ["('x' ?? 'y') == 'x'", true],
    ["(false ? b) == nothing", false],
    ["heads =~ '^h'", true],
    ["tails =~ hea", false],
    ["tails !~ h", true],
    ["'abc123' =~ '[0-9]+$'", true],
    ["(1 == 1) && (2 == 2)", true],
    ["((1 + 2) * 3) == 9", true],
    ["'a\\'b' == 'a\\'b'", true],
  ])("%s -> %s", (expression, expected) => {
    expect(evaluateWhen(expression)).toBe(expected);
  });
});

describe("evaluateWhen: date strings become unix timestamps", () => {
  it.each([
    ["'2024-01-02' > '2024-01-01'", true],
    ["'2024-01-01' == '2024-01-01 00:00'", true],
    ["'2024-01-01T00:00:00Z' == 1704067200", true],
    ["'2024-01-01 10:00:00' < '2024-01-01T09:00:00-02:00'", true],
    ["'2024-02-30' == '2024-02-30'", true],
  ])("%s -> %s", (expression, expected) => {
    expect(evaluateWhen(expression)).toBe(expected);
  });

  it("keeps a non-date string a string (so comparing it with a number fails)", () => {
    expect(() => evaluateWhen("'2024-13-01' > 1")).toThrow(/cannot be used with the comparator '>'/);
  });

  it("compares an identifier that looks like a date as a string, not a timestamp", () => {
    expect(() => evaluateWhen("x > '2024-01-01'")).toThrow(/cannot be used with the comparator/);
  });
});

describe("evaluateWhen: errors like Argo's", () => {
  it.each([
    [
      "5 < abc",
      "SKF-EXPR-006",
      "Failed to evaluate 'when' expression '5 < abc': Value '5' cannot be used with the comparator '<', it is not a number",
    ],
    ["my-val == x", "SKF-EXPR-006", "Value 'my' cannot be used with the modifier '-', it is not a number"],
    [
      "true + 1 == 2",
      "SKF-EXPR-006",
      "Value 'true' cannot be used with the modifier '+', it is not a number",
    ],
    [
      "1 && true",
      "SKF-EXPR-006",
      "Value '1' cannot be used with the logical operator '&&', it is not a bool",
    ],
    ["1 ? a : b", "SKF-EXPR-006", "Value '1' cannot be used with the ternary operator '?', it is not a bool"],
    ["1 in 1", "SKF-EXPR-006", "Value '1' cannot be used with the comparator 'in', it is not a number"],
    ["A.B == 1", "SKF-EXPR-006", "No parameter 'A' found."],
    [
      "a =~ '('",
      "SKF-EXPR-005",
      "Invalid 'when' expression 'a =~ '('': error parsing regexp: missing closing ): `(`",
    ],
    ["a =~ (", "SKF-EXPR-005", "Unbalanced parenthesis"],
    ["1 = 1", "SKF-EXPR-005", "Invalid token: '='"],
    ["true &&& false", "SKF-EXPR-005", "Invalid token: '&&&'"],
    ["10 > 5 +", "SKF-EXPR-005", "Unexpected end of expression"],
    ["true ?", "SKF-EXPR-005", "Unexpected end of expression"],
    [" / =~", "SKF-EXPR-005", "Cannot transition token types"],
    ["+ 5", "SKF-EXPR-005", "Cannot transition token types"],
    ["10 > < 10", "SKF-EXPR-005", "Cannot transition token types"],
    [" ) ( arg2", "SKF-EXPR-005", "Cannot transition token types"],
    ["[foo bar", "SKF-EXPR-005", "Unclosed parameter bracket"],
    ["127.0.0.1", "SKF-EXPR-005", "Unable to parse numeric value '127.0.0.1' to float64"],
    ["foo.Bar.", "SKF-EXPR-005", "Hanging accessor on token 'foo.Bar.'"],
    ["0x", "SKF-EXPR-005", "Cannot transition token types"],
    ["0x > 0", "SKF-EXPR-005", "Unable to parse hex value"],
    ["0x12g1", "SKF-EXPR-005", "Cannot transition token types"],
    ["5", "SKF-EXPR-007", "Expected boolean evaluation for '5', got 5"],
    ["heads", "SKF-EXPR-007", "Expected boolean evaluation for 'heads', got heads"],
    ["false ? 1 : 2", "SKF-EXPR-007", "got 2"],
    [
      "a =! b",
      "SKF-EXPR-005",
      "Invalid token: '=!' (hint: try wrapping the affected expression in quotes (\"))",
    ],
    ["a b", "SKF-EXPR-005", "Cannot transition token types from VARIABLE [a] to VARIABLE [b]"],
    ["foo(1) == 1", "SKF-EXPR-005", "Undefined function foo"],
    ["1 ==", "SKF-EXPR-005", "Unexpected end of expression"],
    ["(1 == 1", "SKF-EXPR-005", "Unbalanced parenthesis"],
    ["'abc == abc", "SKF-EXPR-005", "Unclosed string literal"],
    ["1.2.3 == 1", "SKF-EXPR-005", "Unable to parse numeric value '1.2.3' to float64"],
    ["v1.2 == x", "SKF-EXPR-006", "No parameter 'v1' found."],
    ["v1.beta == x", "SKF-EXPR-005", "Unable to access unexported field 'beta' in token 'v1.beta'"],
    ["'x' ?? 'y' == 'x'", "SKF-EXPR-007", "got x"],
    // Either quote closes a string in govaluate.
    ["'a' == \"a'b\"", "SKF-EXPR-005", "Unclosed string literal"],
    ["a.b == 1", "SKF-EXPR-005", "Unable to access unexported field 'b' in token 'a.b'"],
    [
      "!foo",
      "SKF-EXPR-005",
      "Failed to parse 'when' expression '!foo': Cannot transition token types from PREFIX [!] to STRING [foo]",
    ],
    ["1 ==-1", "SKF-EXPR-005", "Invalid token: '==-'"],
  ])("%s", (expression, code, message) => {
    const e = whenError(expression);
    expect(e.code).toBe(code);
    expect(e.message).toContain(message);
  });

  it("only gives the quoting hint for invalid tokens", () => {
    expect(whenError("a b").message).not.toContain("hint");
  });

  it("carries the column of the problem", () => {
    expect(whenError("heads == 1 =! 2").position?.column).toBe(12);
    expect(whenError("5 < abc").position?.column).toBe(3);
  });
});

describe("checkExpressionSyntax govaluate", () => {
  it("accepts when texts with unsubstituted tags", () => {
    expect(checkExpressionSyntax("{{steps.flip-coin.outputs.result}} == heads", "govaluate")).toEqual([]);
    expect(
      checkExpressionSyntax("{{inputs.parameters.num}} != 1 && {{inputs.parameters.num}} != 2", "govaluate"),
    ).toEqual([]);
    expect(
      checkExpressionSyntax("{{steps.a.outputs.result}} < {{inputs.parameters.limit}}", "govaluate"),
    ).toEqual([]);
    expect(checkExpressionSyntax("{{= inputs.parameters['x'] == 'true' }}", "govaluate")).toEqual([]);
  });

  it("reports problems with columns in the original text", () => {
    const problems = checkExpressionSyntax("{{steps.a.outputs.result}} =! heads", "govaluate");
    expect(problems).toHaveLength(1);
    expect(problems[0]?.column).toBe(28);
    expect(problems[0]?.message).toBe(
      `Invalid token: '=!' (hint: try wrapping the affected expression in quotes ("))`,
    );
  });

  it("checks expression tags inside a when as expr-lang", () => {
    const problems = checkExpressionSyntax("{{= 1 + }}", "govaluate");
    expect(problems).toHaveLength(1);
    expect(problems[0]?.column).toBe(9);
  });
});
