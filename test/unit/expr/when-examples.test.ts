import { describe, expect, it } from "vitest";
import { evaluateWhen, substitute } from "../../../runtime/expr/index.js";

/** `when` texts of Argo's examples, substituted the way the controller does, then evaluated with govaluate. */
function when(text: string, vars: Record<string, string | null>): boolean {
  return evaluateWhen(substitute(text, vars, { strictPrefixes: ["steps", "tasks"] }));
}

const complex = `( {{steps.flip-coin.outputs.result}} == heads &&
  {{steps.flip-again.outputs.result}} == tails
) ||
( {{steps.flip-coin.outputs.result}} == tails &&
  {{steps.flip-again.outputs.result}} == tails )`;

describe("when conditions of Argo's examples", () => {
  it.each([
    [
      "coinflip heads",
      "{{steps.flip-coin.outputs.result}} == heads",
      { "steps.flip-coin.outputs.result": "heads" },
      true,
    ],
    [
      "coinflip tails",
      "{{steps.flip-coin.outputs.result}} == heads",
      { "steps.flip-coin.outputs.result": "tails" },
      false,
    ],
    [
      "conditionals-complex",
      complex,
      { "steps.flip-coin.outputs.result": "tails", "steps.flip-again.outputs.result": "tails" },
      true,
    ],
    [
      "conditionals-complex false",
      complex,
      { "steps.flip-coin.outputs.result": "tails", "steps.flip-again.outputs.result": "heads" },
      false,
    ],
    [
      "regex",
      "{{steps.flip-again.outputs.result}} =~ hea",
      { "steps.flip-again.outputs.result": "heads" },
      true,
    ],
    [
      "status-reference",
      "{{steps.flakey-container.status}} == Failed",
      { "steps.flakey-container.status": "Failed" },
      true,
    ],
    ["exit-handlers", "{{workflow.status}} != Succeeded", { "workflow.status": "Failed" }, true],
    [
      "conditionals govaluate form",
      "{{inputs.parameters.should-print}} == true",
      { "inputs.parameters.should-print": "true" },
      true,
    ],
    [
      "conditionals expr form",
      "{{= inputs.parameters[\"should-print\"] == 'true'}}",
      { "inputs.parameters.should-print": "false" },
      false,
    ],
    [
      "conditionals jsonpath form",
      "{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}",
      { "workflow.parameters.json": '[{"name":"should-print","value":"true"}]' },
      true,
    ],
    [
      "recursive-for-loop compares numbers",
      "{{steps.iterate-counter.outputs.result}} < {{inputs.parameters.limit}}",
      { "steps.iterate-counter.outputs.result": "9", "inputs.parameters.limit": "10" },
      true,
    ],
    [
      "fibonacci",
      "{{inputs.parameters.num}} != 1 && {{inputs.parameters.num}} != 2",
      { "inputs.parameters.num": "5" },
      true,
    ],
    ["parameter-aggregation", "{{item.evenness}} == even", { "item.evenness": "odd" }, false],
    [
      "intermediate-parameters",
      "{{steps.approval.outputs.parameters.approve}} == YES",
      { "steps.approval.outputs.parameters.approve": "YES" },
      true,
    ],
    ["skipped producer", "false", {}, false],
    [
      "cron-when with no previous run",
      "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}",
      { "cronworkflow.lastScheduledTime": null },
      true,
    ],
  ])("%s", (_name, text, vars, expected) => {
    expect(when(text, vars)).toBe(expected);
  });

  it("waits while the referenced step has not reported", () => {
    expect(() => when("{{steps.flip-coin.outputs.result}} == heads", {})).toThrow(/not available yet/);
  });

  it("fails a value with a dash unless quoted", () => {
    const vars = { "steps.a.outputs.result": "my-value" };
    expect(() => when("{{steps.a.outputs.result}} == my-value", vars)).toThrow(
      /cannot be used with the modifier '-'/,
    );
    expect(when('"{{steps.a.outputs.result}}" == "my-value"', vars)).toBe(true);
  });
});
