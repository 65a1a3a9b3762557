import { describe, expect, it } from "vitest";
import {
  AbsentOptionalError,
  PendingReferenceError,
  exactReference,
  findTags,
  substitute,
  substituteObject,
} from "../../../runtime/expr/index.js";
import { SkiffError } from "../../../runtime/errors/index.js";

const vars = {
  "inputs.parameters.message": "hello",
  "inputs.parameters.n": "5",
  "inputs.parameters.quoted": 'say "hi"\nbye',
  "inputs.parameters.my-param": "dashed",
  "workflow.name": "wf-1",
  "steps.a.outputs.result": "heads",
  "steps.skipped.outputs.parameters.p": null,
  item: "x",
};

describe("findTags", () => {
  it("finds simple and expression tags with offsets", () => {
    const tags = findTags("a {{ x }} b {{=1+1}}");
    expect(tags).toEqual([
      { raw: "{{ x }}", inner: " x ", expression: false, start: 2, end: 9 },
      { raw: "{{=1+1}}", inner: "=1+1", expression: true, start: 12, end: 20 },
    ]);
  });

  it("does not nest: the first }} closes the tag", () => {
    expect(findTags("{{a{{b}}}}").map((t) => t.inner)).toEqual(["a{{b"]);
  });

  it("only treats a leading = as an expression tag", () => {
    expect(findTags("{{ =x}}")[0]?.expression).toBe(false);
  });

  it("ignores an unterminated tag", () => {
    expect(findTags("x {{ y")).toEqual([]);
  });
});

describe("exactReference", () => {
  it.each([
    ["{{steps.p.outputs.parameters.x}}", "steps.p.outputs.parameters.x"],
    ["{{ steps.p.outputs.result }}", "steps.p.outputs.result"],
    [" {{steps.p.outputs.result}}", undefined],
    ["{{a}}{{b}}", undefined],
    ["{{=steps.p.outputs.result}}", undefined],
    ["plain", undefined],
  ])("%s", (text, expected) => {
    expect(exactReference(text)).toBe(expected);
  });
});

describe("substitute", () => {
  it.each([
    ["{{inputs.parameters.message}} world", "hello world"],
    ["{{ inputs.parameters.message }}", "hello"],
    // Argo trims the JSON-escaped text, so tabs and newlines (escaped as \t, \n) keep the tag unresolved.
    ["{{\tinputs.parameters.message\n}}", "{{\tinputs.parameters.message\n}}"],
    ["no tags at all", "no tags at all"],
    ["{{workflow.name}}-{{inputs.parameters.n}}", "wf-1-5"],
    ["{{inputs.parameters.my-param}}", "dashed"],
    ["{{custom.variable}}", "{{custom.variable}}"],
    ["{{ inputs.parameters.unknown }}", "{{ inputs.parameters.unknown }}"],
    ["{{=asInt(inputs.parameters.n) * 10}}", "50"],
    ["{{= inputs.parameters['my-param'] }}", "dashed"],
    ["{{=inputs.parameters.message + '!'}}", "hello!"],
    ["{{=item}}", "x"],
    ["{{=toJson([1, 2])}}", "[1,2]"],
    ["{{=1 == 1}}", "true"],
    ["{{=1.5 * 2}}", "3"],
    ["{{=missing.thing}}", "{{=missing.thing}}"],
    ["{{=inputs.parameters.missing ?? 'default'}}", "default"],
    ["{{=asInt(inputs.parameters.missing)}}", "{{=asInt(inputs.parameters.missing)}}"],
    ["{{=item.a}}", "{{=item.a}}"],
    ["{{=undefinedFunction(1)}}", "{{=undefinedFunction(1)}}"],
    ["{{=lastRetry.exitCode == '1'}}", "{{=lastRetry.exitCode == '1'}}"],
    ["{{=workflow.status == 'Succeeded'}}", "{{=workflow.status == 'Succeeded'}}"],
    ["{{=retries + 1}}", "{{=retries + 1}}"],
    ["{{inputs.parameters.quoted}}", 'say "hi"\nbye'],
    ["{{=inputs.parameters.quoted}}", 'say "hi"\nbye'],
    ["{{inputs.parameters{{item}}}}", "{{inputs.parametersx}}"],
  ])("%s", (text, expected) => {
    expect(substitute(text, vars)).toBe(expected);
  });

  it("accepts a Map of variables", () => {
    expect(substitute("{{a.b}}", new Map([["a.b", "v"]]))).toBe("v");
  });

  it("throws PendingReferenceError for a missing strict key", () => {
    const err = (() => {
      try {
        substitute("{{steps.b.outputs.result}}", vars, { strictPrefixes: ["steps", "tasks"] });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(PendingReferenceError);
    expect((err as PendingReferenceError).key).toBe("steps.b.outputs.result");
    expect((err as PendingReferenceError).code).toBe("SKF-EXPR-003");
  });

  it("resolves present strict keys and leaves other roots alone", () => {
    expect(substitute("{{steps.a.outputs.result}} {{foo.bar}}", vars, { strictPrefixes: ["steps"] })).toBe(
      "heads {{foo.bar}}",
    );
  });

  it("lets allowUnresolved keys stay even when strict", () => {
    const text = "{{steps.b.outputs.artifacts.art}}";
    expect(
      substitute(text, vars, { strictPrefixes: ["steps"], allowUnresolved: [/\.outputs\.artifacts\./] }),
    ).toBe(text);
  });

  it("waits on a missing strict identifier inside an expression tag", () => {
    expect(() =>
      substitute("{{=steps.b.outputs.result == 'x'}}", vars, { strictPrefixes: ["steps"] }),
    ).toThrow(PendingReferenceError);
  });

  it("evaluates a strict reference to a producer that reported, letting ?? supply a fallback", () => {
    expect(substitute("{{=steps.a.outputs.nope ?? 'd'}}", vars, { strictPrefixes: ["steps"] })).toBe("d");
  });

  it("leaves an expression with a missing late-binding variable untouched even when strict", () => {
    expect(substitute("{{=sprig.int(retries)}}", vars, { strictPrefixes: ["steps"] })).toBe(
      "{{=sprig.int(retries)}}",
    );
  });

  it("throws AbsentOptionalError for an absent value in composite text", () => {
    expect(() => substitute("value: {{steps.skipped.outputs.parameters.p}}", vars)).toThrow(
      AbsentOptionalError,
    );
  });

  it("lets expressions see an absent value as nil", () => {
    expect(substitute("{{=steps.skipped.outputs.parameters.p ?? 'fallback'}}", vars)).toBe("fallback");
    expect(substitute("{{=steps.skipped.outputs.parameters.p == ''}}", vars)).toBe("false");
    expect(substitute("{{=steps.skipped.outputs.parameters.p == nil}}", vars)).toBe("true");
  });

  it("makes a bare expression over an absent value an AbsentOptionalError", () => {
    const err = (() => {
      try {
        substitute("{{=steps.skipped.outputs.parameters.p}}", vars);
      } catch (e) {
        return e as AbsentOptionalError;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(AbsentOptionalError);
    expect(err?.message).toContain("absent optional");
    expect(err?.key).toBe("steps.skipped.outputs.parameters.p");
  });

  it("fails when an expression with all identifiers present evaluates to nil", () => {
    expect(() => substitute("{{=nil}}", vars)).toThrow(/nil/);
  });

  it("reports evaluation errors of complete expressions", () => {
    expect(() => substitute("{{=inputs.parameters.n + 1}}", vars)).toThrow(SkiffError);
    expect(() => substitute("{{=inputs.parameters.n + 1}}", vars)).toThrow(
      /invalid operation: string \+ int/,
    );
  });

  it("reports syntax errors with the column", () => {
    try {
      substitute("{{=1 + }}", vars);
      expect.unreachable();
    } catch (e) {
      expect((e as SkiffError).code).toBe("SKF-EXPR-008");
      expect((e as SkiffError).position?.column).toBe(5);
    }
  });

  it("rejects an unterminated tag", () => {
    expect(() => substitute("echo {{inputs.parameters.message", vars)).toThrow(/SKF-EXPR-001|end tag/);
  });

  it("rejects non-string values passed at runtime", () => {
    expect(() => substitute("{{x}}", { x: 3 } as unknown as Record<string, string>)).toThrow(
      "failed to resolve {{x}} to string",
    );
  });
});

describe("substituteObject", () => {
  it("substitutes inside nested values without mutating the input", () => {
    const input = {
      args: ["echo {{inputs.parameters.message}}"],
      env: [{ name: "N", value: "{{=asInt(inputs.parameters.n) + 1}}" }],
    };
    const out = substituteObject(input, vars);
    expect(out).toEqual({ args: ["echo hello"], env: [{ name: "N", value: "6" }] });
    expect(input.args[0]).toBe("echo {{inputs.parameters.message}}");
  });

  it("JSON-escapes quotes and newlines so the result stays valid", () => {
    const out = substituteObject({ source: "print('{{inputs.parameters.quoted}}')" }, vars);
    expect(out.source).toBe("print('say \"hi\"\nbye')");
  });

  it("unescapes expression text that was escaped by the JSON serialization", () => {
    const out = substituteObject({ when: '{{= inputs.parameters["my-param"] == "dashed"}}' }, vars);
    expect(out.when).toBe("true");
  });

  it("formats structured expression results as JSON inside strings", () => {
    expect(substituteObject({ v: '{{=toJson({"a": "b\\"c"})}}' }, vars)).toEqual({ v: '{"a":"b\\"c"}' });
  });

  it("leaves keys and non-string values intact", () => {
    expect(substituteObject({ n: 1, ok: true, nothing: null, list: [] }, vars)).toEqual({
      n: 1,
      ok: true,
      nothing: null,
      list: [],
    });
  });
});
