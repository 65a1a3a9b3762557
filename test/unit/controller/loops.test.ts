import { describe, expect, it } from "vitest";
import { expandSequence, itemDescription, parseWithParam } from "../../../runtime/controller/index.js";
import { harness, run } from "./helpers.js";

describe("loop helpers", () => {
  it("describes items as Argo names them", () => {
    expect(itemDescription("hello world")).toBe("hello world");
    expect(itemDescription(3)).toBe("3");
    expect(itemDescription(true)).toBe("true");
    expect(itemDescription({ name: "jesse", group: "dev" })).toBe("group:dev,name:jesse");
    expect(itemDescription(["a", "b"])).toBe("[a b]");
    expect(itemDescription("f(x)")).toBe("fx");
  });

  it("expands sequences", () => {
    expect(expandSequence({ count: "3" })).toEqual(["0", "1", "2"]);
    expect(expandSequence({ start: "5", end: "3" })).toEqual(["5", "4", "3"]);
    expect(expandSequence({ start: 1, end: 3, format: "x%02d" })).toEqual(["x01", "x02", "x03"]);
    expect(expandSequence({ count: 0 })).toEqual([]);
  });

  it("rejects withParam text that is not a JSON list", () => {
    expect(() => parseWithParam("{}")).toThrow(/withParam value could not be parsed as a JSON list: \{\}/);
    expect(() => parseWithParam("nope")).toThrow(/withParam value could not be parsed as a JSON list: nope/);
  });
});

describe("steps loops", () => {
  it("expands withItems into the step group with (index:desc) names", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: loops}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: print
        template: t
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withItems: [hello world, goodbye world]
      - name: maps
        template: t
        arguments: {parameters: [{name: m, value: "{{item.name}}/{{item.group}}"}]}
        withItems: [{name: jesse, group: dev}]
  - name: t
    inputs: {parameters: [{name: m}]}
    container: {image: x, args: ["{{inputs.parameters.m}}"]}
`);
    expect(wf.status?.phase).toBe("Succeeded");
    const a = n("loops[0].print(0:hello world)");
    const b = n("loops[0].print(1:goodbye world)");
    const c = n("loops[0].maps(0:group:dev,name:jesse)");
    expect(a.displayName).toBe("print(0:hello world)");
    expect(n("loops[0]").children).toEqual([a.id, b.id, c.id]);
    expect(exec.requests.map((r) => r.template.container?.args?.[0]).sort()).toEqual([
      "goodbye world",
      "hello world",
      "jesse/dev",
    ]);
  });

  it("withParam from a previous step's result, and aggregated outputs", async () => {
    const h = harness();
    h.exec.script("gen", { stdout: '["a","b","c"]' });
    h.exec.script("work", (req) => ({
      stdout: JSON.stringify({ v: req.parameters[0]?.value }),
      outputParameters: { o: `o-${req.parameters[0]?.value}` },
    }));
    const { wf, n, exec } = await run(
      `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: fan}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: work
        template: work
        arguments: {parameters: [{name: x, value: "{{item}}"}]}
        withParam: "{{steps.gen.outputs.result}}"
    - - name: sum
        template: sum
        arguments:
          parameters:
          - {name: results, value: "{{steps.work.outputs.result}}"}
          - {name: params, value: "{{steps.work.outputs.parameters.o}}"}
  - name: gen
    script: {image: x, source: x}
  - name: work
    inputs: {parameters: [{name: x}]}
    container: {image: x}
    outputs: {parameters: [{name: o, valueFrom: {path: /o}}]}
  - name: sum
    inputs: {parameters: [{name: results}, {name: params}]}
    container: {image: x}
`,
      h,
    );
    expect(wf.status?.phase).toBe("Succeeded");
    expect(n.has("fan[1].work(2:c)")).toBe(true);
    const sum = exec.requests.find((r) => r.templateName === "sum");
    expect(sum?.parameters).toEqual([
      { name: "results", value: '[{"v":"a"},{"v":"b"},{"v":"c"}]' },
      { name: "params", value: '["o-a","o-b","o-c"]' },
    ]);
  });

  it("an empty loop gives one Skipped node", async () => {
    const { wf, n } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: empty}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: none, template: t, withParam: "[]"}
    - - {name: after, template: t}
  - name: t
    container: {image: x}
`);
    const s = n("empty[0].none");
    expect(s.type).toBe("Skipped");
    expect(s.phase).toBe("Skipped");
    expect(s.message).toBe("Skipped, empty params");
    expect(n("empty[0]").phase).toBe("Succeeded");
    expect(s.children).toEqual([n("empty[1]").id]);
    expect(wf.status?.phase).toBe("Succeeded");
  });

  it("withSequence and per-item when", async () => {
    const { n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: seq}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: s, template: t, withSequence: {count: "4"}, when: "{{item}} != 2"}
  - name: t
    container: {image: x}
`);
    expect(exec.requests).toHaveLength(3);
    expect(n("seq[0].s(2:2)").phase).toBe("Skipped");
    expect(n("seq[0].s(2:2)").message).toBe("when '2 != 2' evaluated false");
    expect(n("seq[0].s(3:3)").phase).toBe("Succeeded");
  });

  it("a bad withParam errors the group before any step starts", async () => {
    const { wf, n, exec } = await run(`
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: badparam}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: first, template: t}
      - {name: s, template: t, withParam: "not json"}
  - name: t
    container: {image: x}
`);
    expect(n("badparam[0]").phase).toBe("Error");
    expect(n("badparam[0]").message).toMatch(/^withParam value could not be parsed as a JSON list: not json/);
    expect(n.has("badparam[0].first")).toBe(false);
    expect(exec.requests).toHaveLength(0);
    expect(wf.status?.phase).toBe("Failed");
  });
});
