import { describe, expect, it } from "vitest";
import {
  checkExpressionSyntax,
  evaluateCondition,
  evaluateExpression,
  formatExpressionResult,
  toPlainValue,
} from "../../../runtime/expr/index.js";
import { SkiffError } from "../../../runtime/errors/index.js";

const now = () => new Date("2024-03-05T10:20:30Z");
const vars = {
  "inputs.parameters.n": "5",
  "inputs.parameters.f": "2.5",
  "inputs.parameters.name": "World",
  "inputs.parameters.my-param": "dashed",
  "inputs.parameters.json": '{"a": [1, 2, {"b": "c"}], "n": 3}',
  "steps.my-step.outputs.result": "ok",
  "workflow.parameters": '[{"name":"x","value":"1"}]',
  "workflow.parameters.x": "1",
  "workflow.parameters.json": '[{"name":"x","value":"1"}]',
  "item.a": "1",
  "item.b": "two",
  "absent.value": null,
};

/** Evaluates and renders the result the way a tag would show it. */
function show(expression: string, env: Record<string, unknown> = vars): string {
  return formatExpressionResult(evaluateExpression(expression, env, { now }));
}

function evalError(expression: string, env: Record<string, unknown> = vars): SkiffError {
  try {
    evaluateExpression(expression, env, { now });
  } catch (e) {
    if (e instanceof SkiffError) return e;
    throw e;
  }
  throw new Error(`expected '${expression}' to fail`);
}

describe("expr-lang: literals and operators", () => {
  it.each([
    ["1 + 2", "3"],
    ["1 + 2.5", "3.5"],
    ["7 / 2", "3.5"],
    ["6 / 2", "3"],
    ["7 % 3", "1"],
    ["2 ** 10", "1024"],
    ["2 ^ 3", "8"],
    ["-3 + 1", "-2"],
    ["1_000 * 2", "2000"],
    ["0x1F", "31"],
    ["1e3", "1000"],
    ["'a' + \"b\"", "ab"],
    ["`raw\\n`", "raw\\n"],
    ["'tab\\there'", "tab\there"],
    ["true && !false", "true"],
    ["true and not false", "true"],
    ["false or true", "true"],
    ["1 == 1.0", "true"],
    ["'1' == 1", "false"],
    ["nil == nil", "true"],
    ["1 < 2 < 3", "true"],
    ["3 > 2 > 2", "false"],
    ["'abc' < 'abd'", "true"],
    ["2 in [1, 2, 3]", "true"],
    ["'a' in {a: 1}", "true"],
    ["4 not in [1, 2]", "true"],
    ["'hello' contains 'ell'", "true"],
    ["'hello' startsWith 'he'", "true"],
    ["'hello' endsWith 'lo'", "true"],
    ["'hello' matches '^h.*o$'", "true"],
    ["'hello' not matches 'x'", "true"],
    ["1..4", "[1,2,3,4]"],
    ["true ? 'y' : 'n'", "y"],
    ["false ? 'y' : 'n'", "n"],
    ["nil ?? 'd'", "d"],
    ["'v' ?? 'd'", "v"],
    ["[1, 2, 3][0]", "1"],
    ["[1, 2, 3][-1]", "3"],
    ["[1, 2, 3, 4][1:3]", "[2,3]"],
    ["[1, 2, 3, 4][:2]", "[1,2]"],
    ["[1, 2, 3, 4][2:]", "[3,4]"],
    ["'hello'[1:3]", "el"],
    ["{a: 1, 'b c': 2}['b c']", "2"],
    ["{a: {b: 'deep'}}.a.b", "deep"],
    ["{a: 1}.missing", "null"],
    ["{a: 1}?.missing?.deeper", "null"],
    ["let x = 2; let y = x * 3; y + 1", "7"],
    ["[1, 2] + [3]", "[1,2,3]"],
    ["if 1 > 2 { 'a' } else { 'b' }", "b"],
    ["// comment\n1 + /* inline */ 1", "2"],
  ])("%s => %s", (expression, expected) => {
    expect(show(expression)).toBe(expected);
  });

  it("keeps ints and floats apart like Go", () => {
    expect(evaluateExpression("1 + 2", {})).toBe(3n);
    expect(evaluateExpression("1.0 + 2", {})).toBe(3);
    expect(evaluateExpression("4 / 2", {})).toBe(2);
    expect(evaluateExpression("len('héllo')", {})).toBe(6n);
  });

  it("wraps int64 overflow", () => {
    expect(show("9223372036854775807 + 1")).toBe("-9223372036854775808");
  });
});

describe("expr-lang: Argo environment", () => {
  it.each([
    ["inputs.parameters.n", "5"],
    ["asInt(inputs.parameters.n) * 10", "50"],
    ["asFloat(inputs.parameters.f) * 2", "5"],
    ["int(inputs.parameters.n) + 1", "6"],
    ["float(inputs.parameters.n) / 2", "2.5"],
    ["inputs.parameters['my-param']", "dashed"],
    ['inputs.parameters["my-param"] == "dashed"', "true"],
    ["steps['my-step'].outputs.result", "ok"],
    ["'Hello ' + inputs.parameters.name", "Hello World"],
    ["workflow.parameters.x", "1"],
    ["jsonpath(workflow.parameters.json, '$[0].value')", "1"],
    ["item.a + item.b", "1two"],
    ["absent.value ?? 'fallback'", "fallback"],
    ["absent.value == ''", "false"],
    ["absent?.value?.deeper", "null"],
    ["toJson({b: 1, a: 'x'})", '{"a":"x","b":1}'],
    ["toJson([1, 'two', true, nil])", '[1,"two",true,null]'],
    ["jsonpath(inputs.parameters.json, '$.a[2].b')", "c"],
    ["jsonpath(inputs.parameters.json, '$.n')", "3"],
    ["jsonpath(inputs.parameters.json, '$.a[*]')", '[1,2,{"b":"c"}]'],
    ["jsonpath(inputs.parameters.json, '$.a[0:2]')", "[1,2]"],
    ["fromJSON(inputs.parameters.json).a[1]", "2"],
  ])("%s => %s", (expression, expected) => {
    expect(show(expression)).toBe(expected);
  });

  it("drops the less specific key when expanding (workflow.parameters is a map, not JSON)", () => {
    expect(show("toJson(workflow.parameters)")).toBe(
      '{"json":"[{\\"name\\":\\"x\\",\\"value\\":\\"1\\"}]","x":"1"}',
    );
  });

  it("makes map loop items a map of strings", () => {
    expect(show("item")).toBe('{"a":"1","b":"two"}');
  });

  it("accepts plain JS values as the environment", () => {
    expect(show("data | filter(# > 1) | map(# * 10)", { data: [1, 2, 3] })).toBe("[20,30]");
    expect(show("response.statusCode == 200", { response: { statusCode: 200 } })).toBe("true");
  });

  it("fails asInt on text that is not an integer", () => {
    expect(evalError("asInt('abc')").message).toContain("invalid operation: int(abc)");
    expect(evalError("asFloat('x1')").message).toContain("invalid operation: float(x1)");
  });
});

describe("expr-lang: closures and builtins", () => {
  it.each([
    ["filter([1, 3], {# > 1})", "[3]"],
    ["filter([1, 2, 3, 4], # % 2 == 0)", "[2,4]"],
    ["map([1, 2], # * 2)", "[2,4]"],
    ["map([1, 2], #index)", "[0,1]"],
    ["all([1, 2], # > 0)", "true"],
    ["any([1, 2], # > 1)", "true"],
    ["none([1, 2], # > 2)", "true"],
    ["one([1, 2], # > 1)", "true"],
    ["count([1, 2, 3], # > 1)", "2"],
    ["find([1, 2, 3], # > 1)", "2"],
    ["findIndex([1, 2, 3], # > 1)", "1"],
    ["findLast([1, 2, 3], # > 1)", "3"],
    ["findLastIndex([1, 2, 3], # > 5)", "-1"],
    ["sum([1, 2, 3])", "6"],
    ["sum([1, 2.5])", "3.5"],
    ["sum([1, 2], # * 10)", "30"],
    ["reduce([1, 2, 3], #acc + #)", "6"],
    ["reduce([1, 2, 3], #acc + #, 10)", "16"],
    ["groupBy([1, 2, 3], # % 2 == 0)", '{"false":[1,3],"true":[2]}'],
    ["sortBy([{n: 2}, {n: 1}], .n)", '[{"n":1},{"n":2}]'],
    ["filter([{n: 2}, {n: 1}], .n > 1)", '[{"n":2}]'],
    ["[1, 2, 3] | filter(# > 1) | map(# * 2)", "[4,6]"],
    ["len([1, 2])", "2"],
    ["len({a: 1})", "1"],
    ["len('abc')", "3"],
    ["upper('abc')", "ABC"],
    ["lower('ABC')", "abc"],
    ["trim('  x  ')", "x"],
    ["trim('xxaxx', 'x')", "a"],
    ["trimPrefix('prefix-x', 'prefix-')", "x"],
    ["trimSuffix('x.txt', '.txt')", "x"],
    ["split('a,b,c', ',')", '["a","b","c"]'],
    ["split('a,b,c', ',', 2)", '["a","b,c"]'],
    ["splitAfter('a,b', ',')", '["a,","b"]'],
    ["replace('aaa', 'a', 'b')", "bbb"],
    ["replace('aaa', 'a', 'b', 2)", "bba"],
    ["date('10:20:30').Hour()", "10"],
    ["date('Mon, 02 Jan 2006 15:04:05 UTC').Year()", "2006"],
    ["date('02.01.2024', '02.01.2006').Month()", "1"],
    ["repeat('ab', 3)", "ababab"],
    ["join(['a', 'b'], '-')", "a-b"],
    ["indexOf('hello', 'l')", "2"],
    ["lastIndexOf('hello', 'l')", "3"],
    ["hasPrefix('hello', 'he')", "true"],
    ["hasSuffix('hello', 'lo')", "true"],
    ["string(42)", "42"],
    ["string(1.5)", "1.5"],
    ["string(1000000.0)", "1e+06"],
    ["string(true)", "true"],
    ["int('42') + 1", "43"],
    ["int(3.9)", "3"],
    ["float('1.5') * 2", "3"],
    ["abs(-3)", "3"],
    ["ceil(1.2)", "2"],
    ["floor(1.8)", "1"],
    ["round(2.5)", "3"],
    ["max(1, 5, 3)", "5"],
    ["min([4, 2, 8])", "2"],
    ["mean([1, 2, 3, 4])", "2.5"],
    ["median([3, 1, 2])", "2"],
    ["first([1, 2])", "1"],
    ["last([1, 2])", "2"],
    ["first([])", "null"],
    ["get({a: 1}, 'a')", "1"],
    ["get([1, 2], 5)", "null"],
    ["take([1, 2, 3], 2)", "[1,2]"],
    ["keys({b: 1, a: 2})", '["a","b"]'],
    ["values({b: 1, a: 2})", "[2,1]"],
    ["toPairs({a: 1})", '[["a",1]]'],
    ["fromPairs([['a', 1]])", '{"a":1}'],
    ["sort([3, 1, 2])", "[1,2,3]"],
    ["sort([3, 1, 2], 'desc')", "[3,2,1]"],
    ["reverse([1, 2, 3])", "[3,2,1]"],
    ["uniq([1, 1, 2])", "[1,2]"],
    ["concat([1], [2, 3])", "[1,2,3]"],
    ["flatten([1, [2, [3]]])", "[1,2,3]"],
    ["toJSON({a: [1]})", '{\n  "a": [\n    1\n  ]\n}'],
    ["fromJSON('{\"a\": 1.5}').a", "1.5"],
    ["toBase64('hello')", "aGVsbG8="],
    ["fromBase64('aGVsbG8=')", "hello"],
    ["type(1)", "int"],
    ["type(1.5)", "float"],
    ["type('x')", "string"],
    ["bitand(6, 3)", "2"],
    ["bitor(6, 1)", "7"],
    ["bitshl(1, 4)", "16"],
    ["duration('1h30m').Minutes()", "90"],
    ["string(duration('90s'))", "1m30s"],
    ["date('2024-01-02').Year()", "2024"],
    ["date('2024-01-02T03:04:05Z').Format('2006/01/02 15:04')", "2024/01/02 03:04"],
    ["now().Year()", "2024"],
    ["(now() - date('2024-03-05T10:00:00Z')).Seconds()", "1230"],
    ["now() > date('2024-01-01')", "true"],
    ["date('2024-01-01') + duration('24h') == date('2024-01-02')", "true"],
  ])("%s => %s", (expression, expected) => {
    expect(show(expression)).toBe(expected);
  });
});

describe("expr-lang: errors", () => {
  it.each([
    ["inputs.parameters.n + 1", "SKF-EXPR-009", "invalid operation: string + int"],
    ["1 < 'a'", "SKF-EXPR-009", "invalid operation: int < string"],
    ["1 % 0", "SKF-EXPR-009", "integer divide by zero"],
    ["[1][5]", "SKF-EXPR-009", "index out of range: 5 (array length is 1)"],
    ["nope", "SKF-EXPR-012", "unknown name nope"],
    ["nope(1)", "SKF-EXPR-009", "unknown func nope"],
    ["absent.value.x", "SKF-EXPR-009", "cannot fetch x from <nil>"],
    ["'a' && true", "SKF-EXPR-009", "interface {} is string, not bool"],
    ["1 ? 2 : 3", "SKF-EXPR-009", "non-bool expression"],
    ["'x' matches '('", "SKF-EXPR-009", "missing closing )"],
    ["1 +", "SKF-EXPR-008", "unexpected token EOF"],
    ["(1 + 2", "SKF-EXPR-008", "unexpected token EOF"],
    ["1 + 2)", "SKF-EXPR-008", 'unexpected token Bracket(")")'],
    ["'unterminated", "SKF-EXPR-008", "literal not terminated"],
    ["# > 1", "SKF-EXPR-008", "cannot use pointer accessor outside predicate"],
    ["a ?? b + 1", "SKF-EXPR-008", "cannot be mixed"],
    ["1 @ 2", "SKF-EXPR-008", "unrecognized character"],
    ["date('2024/01/02')", "SKF-EXPR-009", "invalid date 2024/01/02"],
    ["repeat('a', -1)", "SKF-EXPR-009", "invalid argument for repeat (expected positive integer, got -1)"],
  ])("%s", (expression, code, message) => {
    const e = evalError(expression);
    expect(e.code).toBe(code);
    expect(e.message).toContain(message);
  });

  it("carries the column of the failing node", () => {
    expect(evalError("1 + (2 + 'x')").position?.column).toBe(8);
    expect(evalError("1 +").position?.column).toBe(4);
  });
});

describe("formatExpressionResult", () => {
  it.each([
    ["text", "text"],
    [3n, "3"],
    [3, "3"],
    [1.5, "1.5"],
    [1e21, "1e+21"],
    [true, "true"],
    [null, "null"],
    [[1n, "a"], '[1,"a"]'],
    [{ b: 1, a: "<&>" }, '{"a":"\\u003c\\u0026\\u003e","b":1}'],
    [new Date("2024-01-02T03:04:05Z"), '"2024-01-02T03:04:05Z"'],
  ])("%s", (value, expected) => {
    expect(formatExpressionResult(value)).toBe(expected);
  });
});

describe("checkExpressionSyntax expr", () => {
  it("accepts valid expressions and reports invalid ones with a column", () => {
    expect(checkExpressionSyntax("filter(items, {# > 1})", "expr")).toEqual([]);
    const problems = checkExpressionSyntax("a +* b", "expr");
    expect(problems).toEqual([{ message: 'unexpected token Operator("*")', column: 4 }]);
  });
});

describe("evaluateCondition", () => {
  it("returns booleans and rejects other results with Argo's message", () => {
    expect(evaluateCondition("asInt(retries) < 3", { retries: "1" })).toBe(true);
    expect(evaluateCondition("lastRetry.status == 'Error'", { "lastRetry.status": "Failed" })).toBe(false);
    expect(() => evaluateCondition("'yes'", {})).toThrow("unable to cast expression result 'yes' to bool");
  });

  it("keeps the shared sprig map immutable", () => {
    expect(() => evaluateExpression("sprig.set(sprig, 'upper', 1)", {})).toThrow(SkiffError);
    expect(show("sprig.upper('still works')")).toBe("STILL WORKS");
  });
});

describe("toPlainValue", () => {
  it("turns Go-typed results into JSON-able values", () => {
    const result = evaluateExpression(
      "{n: len([1, 2]), t: date('2024-01-02'), d: duration('1s'), l: [1, 2.5]}",
      {},
    );
    expect(toPlainValue(result)).toEqual({ n: 2, t: "2024-01-02T00:00:00Z", d: 1e9, l: [1, 2.5] });
    expect(JSON.stringify(toPlainValue(result))).toContain('"n":2');
  });
});
