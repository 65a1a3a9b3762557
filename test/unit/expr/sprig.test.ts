import { describe, expect, it } from "vitest";
import { evaluateExpression, formatExpressionResult } from "../../../runtime/expr/index.js";

const now = () => new Date("2024-03-05T10:20:30Z");

function show(expression: string, env: Record<string, unknown> = {}): string {
  return formatExpressionResult(evaluateExpression(expression, env, { now }));
}

describe("sprig functions used by Argo's examples", () => {
  it.each([
    ["sprig.add(1, 2, 3)", "6"],
    ["sprig.add('34', 27.9)", "61"],
    ["sprig.max(3, 57, 15)", "57"],
    ["sprig.min(3, 57, 15)", "3"],
    ["sprig.b64dec('aGVsbG8=')", "hello"],
    ["sprig.b64dec('!!')", "illegal base64 data at input byte 0"],
    ["sprig.date('2006', '2024-01-01T00:00:00Z')", "2024"],
    ["sprig.date('2006-01-02 15:04', now())", "2024-03-05 10:20"],
  ])("%s => %s", (expression, expected) => {
    expect(show(expression)).toBe(expected);
  });

  it("evaluates expression-reusing-verbose-snippets end to end", () => {
    const weather = '{"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="}';
    const expression = `map([
        jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')
      ], {
        toJson({
          avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5,
          min: sprig.min(#[0], #[1], #[2], #[3], #[4]),
          max: sprig.max(#[0], #[1], #[2], #[3], #[4])
        })
    })[0]`;
    expect(show(expression, { "workflow.parameters.weather": weather })).toBe(
      '{"avg":35.8,"max":57,"min":15}',
    );
  });
});

describe("sprig: strings, lists, math, defaults, regex, encoding, dicts", () => {
  it.each([
    ["sprig.upper('abc')", "ABC"],
    ["sprig.lower('ABC')", "abc"],
    ["sprig.title('hello world')", "Hello World"],
    ["sprig.trim('  x ')", "x"],
    ["sprig.trimAll('$', '$5.00$')", "5.00"],
    ["sprig.trimPrefix('-', '-x')", "x"],
    ["sprig.trimSuffix('-', 'x-')", "x"],
    ["sprig.trunc(3, 'abcdef')", "abc"],
    ["sprig.trunc(-2, 'abcdef')", "ef"],
    ["sprig.abbrev(5, 'hello world')", "he..."],
    ["sprig.substr(1, 3, 'hello')", "el"],
    ["sprig.repeat(2, 'ab')", "abab"],
    ["sprig.replace(' ', '-', 'a b c')", "a-b-c"],
    ["sprig.contains('ell', 'hello')", "true"],
    ["sprig.hasPrefix('he', 'hello')", "true"],
    ["sprig.hasSuffix('lo', 'hello')", "true"],
    ["sprig.quote('a\"b')", '"a\\"b"'],
    ["sprig.squote('a')", "'a'"],
    ["sprig.cat('a', 1, nil, true)", "a 1 true"],
    ["sprig.indent(2, 'a\\nb')", "  a\n  b"],
    ["sprig.nindent(2, 'a')", "\n  a"],
    ["sprig.nospace('a b  c')", "abc"],
    ["sprig.initials('hello big world')", "hbw"],
    ["sprig.snakecase('HelloWorld')", "hello_world"],
    ["sprig.kebabcase('HelloWorld')", "hello-world"],
    ["sprig.camelcase('hello_world')", "HelloWorld"],
    ["sprig.plural('one', 'many', 2)", "many"],
    ["sprig.toString(12)", "12"],
    ["sprig.join(',', ['a', 'b'])", "a,b"],
    ["sprig.split('$', 'a$b')", '{"_0":"a","_1":"b"}'],
    ["sprig.splitList(',', 'a,b')", '["a","b"]'],
    ["sprig.sortAlpha(['b', 'a'])", '["a","b"]'],
    ["sprig.atoi('42')", "42"],
    ["sprig.int('7')", "7"],
    ["sprig.float64('1.5')", "1.5"],
    ["sprig.add1(1)", "2"],
    ["sprig.sub(5, 2)", "3"],
    ["sprig.mul(2, 3, 4)", "24"],
    ["sprig.div(7, 2)", "3"],
    ["sprig.mod(7, 2)", "1"],
    ["sprig.floor(1.7)", "1"],
    ["sprig.ceil(1.2)", "2"],
    ["sprig.round(3.14159, 2)", "3.14"],
    ["sprig.addf(1.5, 2)", "3.5"],
    ["sprig.until(3)", "[0,1,2]"],
    ["sprig.untilStep(0, 10, 4)", "[0,4,8]"],
    ["sprig.seq(3)", "1 2 3"],
    ["sprig.default('d', '')", "d"],
    ["sprig.default('d', 'v')", "v"],
    ["sprig.empty('')", "true"],
    ["sprig.empty(0)", "true"],
    ["sprig.empty([])", "true"],
    ["sprig.empty('x')", "false"],
    ["sprig.coalesce('', nil, 'x')", "x"],
    ["sprig.ternary('yes', 'no', true)", "yes"],
    ["sprig.regexMatch('^[a-z]+$', 'abc')", "true"],
    ["sprig.regexFind('[0-9]+', 'ab12cd34')", "12"],
    ["sprig.regexFindAll('[0-9]+', 'ab12cd34', -1)", '["12","34"]'],
    ["sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '${1}W')", "-W-xxW-"],
    ["sprig.regexReplaceAll('a(x*)b', '-ab-axxb-', '$1W')", "---"],
    ["sprig.regexReplaceAllLiteral('a(x*)b', '-ab-', '$1')", "-$1-"],
    ["sprig.regexSplit('z+', 'pizza', -1)", '["pi","a"]'],
    ["sprig.regexQuoteMeta('a.b')", "a\\.b"],
    ["sprig.regexFindAll('a*', 'baaab', -1)", '["","aaa",""]'],
    ["sprig.regexReplaceAll('a*', 'baaab', '-')", "-b-b-"],
    ["sprig.regexSplit('a*', 'abaabaccadaaae', 5)", '["","b","b","c","cadaaae"]'],
    ["sprig.b64enc('hello')", "aGVsbG8="],
    ["sprig.b32enc('hi')", "NBUQ===="],
    ["sprig.b32dec('NBUQ====')", "hi"],
    ["sprig.sha256sum('abc')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    ["sprig.sha1sum('abc')", "a9993e364706816aba3e25717850c26c9cd0d89d"],
    ["sprig.toJson({b: 1, a: 2})", '{"a":2,"b":1}'],
    ["sprig.toPrettyJson({a: 1})", '{\n  "a": 1\n}'],
    ["sprig.fromJson('{\"a\": 1}').a", "1"],
    ["sprig.list(1, 'a')", '[1,"a"]'],
    ["sprig.first([1, 2])", "1"],
    ["sprig.last([1, 2])", "2"],
    ["sprig.rest([1, 2, 3])", "[2,3]"],
    ["sprig.initial([1, 2, 3])", "[1,2]"],
    ["sprig.append([1], 2)", "[1,2]"],
    ["sprig.prepend([1], 0)", "[0,1]"],
    ["sprig.concat([1], [2])", "[1,2]"],
    ["sprig.reverse([1, 2])", "[2,1]"],
    ["sprig.uniq([1, 1, 2])", "[1,2]"],
    ["sprig.without([1, 2, 3], 2)", "[1,3]"],
    ["sprig.has(2, [1, 2])", "true"],
    ["sprig.compact(['a', '', 'b'])", '["a","b"]'],
    ["sprig.slice([1, 2, 3], 1)", "[2,3]"],
    ["sprig.dict('a', 1, 'b', 'x')", '{"a":1,"b":"x"}'],
    ["sprig.get(sprig.dict('a', 1), 'a')", "1"],
    ["sprig.get(sprig.dict('a', 1), 'z')", ""],
    ["sprig.hasKey(sprig.dict('a', 1), 'a')", "true"],
    ["sprig.keys(sprig.dict('a', 1))", '["a"]'],
    ["sprig.pick(sprig.dict('a', 1, 'b', 2), 'b')", '{"b":2}'],
    ["sprig.omit(sprig.dict('a', 1, 'b', 2), 'b')", '{"a":1}'],
    ["sprig.pluck('a', sprig.dict('a', 1), sprig.dict('a', 2))", "[1,2]"],
    ["sprig.merge(sprig.dict('a', 1), sprig.dict('a', 2, 'b', 3))", '{"a":1,"b":3}'],
    ["sprig.date('2006-01-02', 1704067200)", "2024-01-01"],
    ["sprig.unixEpoch(now())", "1709634030"],
    ["sprig.toDate('2006-01-02', '2024-02-03').Year()", "2024"],
    ["sprig.duration(95)", "1m35s"],
    ["sprig.durationRound('2h10m')", "2h"],
    ["sprig.typeOf(1.5)", "float64"],
    ["sprig.kindIs('slice', [1])", "true"],
    ["sprig.deepEqual([1, {a: 1}], [1, {a: 1}])", "true"],
    ["len(sprig.uuidv4())", "36"],
    ["len(sprig.randAlphaNum(8))", "8"],
  ])("%s => %s", (expression, expected) => {
    expect(show(expression)).toBe(expected);
  });

  it("sprig.now and sprig.ago follow the injected clock", () => {
    expect(show("sprig.now().Unix()")).toBe("1709634030");
    expect(show("sprig.ago(sprig.toDate('2006-01-02T15:04:05Z07:00', '2024-03-05T10:00:30Z'))")).toBe(
      "20m0s",
    );
  });
});
