import { expect } from "vitest";
import type { NodePhase, NodeType, Workflow } from "../../runtime/spec/types.js";

/**
 * One expectation about a node Argo would create for an example workflow. Only the fields that are set are
 * checked, so a check can be as loose as "this node exists" or as strict as type, phase and children.
 */
export interface NodeCheck {
  /** Full node name with `{wf}` for the workflow's name, e.g. "{wf}[0].hello1" or "{wf}.A(0:1)". */
  name: string;
  type?: NodeType;
  phase?: NodePhase;
  /** Names of child nodes (same `{wf}` form), compared as a set, when you are sure of them. */
  children?: string[];
  /** Expect this node NOT to exist (e.g. a step after a failed group). */
  absent?: true;
}

// The expectations below are derived from Argo's semantics (ARGO-SEMANTICS.md §1, §3, §4) and each example's
// YAML, not from any implementation. Reminders of the rules they rest on:
// - names: `N[i]` step group, `N[i].S` step, `D.T` DAG task, `X(i:desc)` loop child, `X(k)` retry attempt,
//   `X.onExit`, `X.hooks.H`, `P.c` containerSet container; the workflow exit handler is `{wf}.onExit`.
// - children: a Steps node -> its first group; a group -> its steps (Skipped ones too); each outbound node of
//   group i's children -> group i+1. A DAG -> its root tasks; each outbound node of a task's dependencies ->
//   the task (also when it is skipped by `when` or Omitted); a TaskGroup -> its expanded children. Outbound
//   nodes: Pod/Skipped/HTTP -> itself (a containerSet pod -> its containers'), Retry -> its last attempt,
//   TaskGroup -> its children's, Steps -> the last group's children's, DAG -> its targets'. A step/task ->
//   its `.onExit` and `.hooks.*` nodes; the workflow's `.onExit` node is nobody's child.
// - where an example is random (coin flips, random exit codes, random counts) only what every outcome shares
//   is checked; a node that exists either as a Pod or as a Skipped node is checked for existence only.
// - lifecycle hooks calling an HTTP URL on the Internet: their phase depends on the network, so only their
//   name and type are checked.

const ok = (name: string, type: NodeType, children?: string[]): NodeCheck => ({
  name,
  type,
  phase: "Succeeded",
  children,
});
const failed = (name: string, type: NodeType, children?: string[]): NodeCheck => ({
  name,
  type,
  phase: "Failed",
  children,
});
/** A step or task whose `when` evaluated false. */
const skipped = (name: string, children?: string[]): NodeCheck => ({
  name,
  type: "Skipped",
  phase: "Skipped",
  children,
});
/** A DAG task whose `depends` evaluated false. */
const omitted = (name: string, children?: string[]): NodeCheck => ({
  name,
  type: "Skipped",
  phase: "Omitted",
  children,
});
const exists = (name: string, type?: NodeType): NodeCheck => ({ name, type });
const absent = (name: string): NodeCheck => ({ name, absent: true });

/** A workflow whose entrypoint is a single pod template. */
const singlePod = (): NodeCheck[] => [ok("{wf}", "Pod", [])];

/** Two sequential single steps `[0].<first>` and `[1].<second>`. */
const twoSteps = (first: string, second: string): NodeCheck[] => [
  ok("{wf}", "Steps", ["{wf}[0]"]),
  ok("{wf}[0]", "StepGroup", [`{wf}[0].${first}`]),
  ok(`{wf}[0].${first}`, "Pod", ["{wf}[1]"]),
  ok("{wf}[1]", "StepGroup", [`{wf}[1].${second}`]),
  ok(`{wf}[1].${second}`, "Pod", []),
];

/** Diamond A -> B, C(inner diamond via templateRef) -> D, as in the (cluster) workflow-template DAG examples. */
const templateRefDiamond = (): NodeCheck[] => [
  ok("{wf}", "DAG", ["{wf}.A"]),
  ok("{wf}.A", "Pod", ["{wf}.B", "{wf}.C"]),
  ok("{wf}.B", "Pod", ["{wf}.D"]),
  ok("{wf}.C", "DAG", ["{wf}.C.inner-A"]),
  ok("{wf}.C.inner-A", "Pod", ["{wf}.C.inner-B", "{wf}.C.inner-C"]),
  ok("{wf}.C.inner-B", "Pod", ["{wf}.C.inner-D"]),
  ok("{wf}.C.inner-C", "Pod", ["{wf}.C.inner-D"]),
  // D depends on C, a DAG: its outbound node is its target inner-D.
  ok("{wf}.C.inner-D", "Pod", ["{wf}.D"]),
  ok("{wf}.D", "Pod", []),
];

/** hello1, then hello2a (inner steps via templateRef) beside hello2b, as in the workflow-template steps examples. */
const templateRefSteps = (): NodeCheck[] => [
  ok("{wf}", "Steps", ["{wf}[0]"]),
  ok("{wf}[0]", "StepGroup", ["{wf}[0].hello1"]),
  ok("{wf}[0].hello1", "Pod", ["{wf}[1]"]),
  ok("{wf}[1]", "StepGroup", ["{wf}[1].hello2a", "{wf}[1].hello2b"]),
  ok("{wf}[1].hello2a", "Steps", ["{wf}[1].hello2a[0]"]),
  ok("{wf}[1].hello2a[0]", "StepGroup", ["{wf}[1].hello2a[0].inner-hello1"]),
  ok("{wf}[1].hello2a[0].inner-hello1", "Pod", ["{wf}[1].hello2a[1]"]),
  ok("{wf}[1].hello2a[1]", "StepGroup", [
    "{wf}[1].hello2a[1].inner-hello2a",
    "{wf}[1].hello2a[1].inner-hello2b",
  ]),
  ok("{wf}[1].hello2a[1].inner-hello2a", "Pod", []),
  ok("{wf}[1].hello2a[1].inner-hello2b", "Pod", []),
  ok("{wf}[1].hello2b", "Pod", []),
];

/** Names of the children of loop `base` for the given item descriptions, in item order. */
const loopChildren = (base: string, descs: string[]): string[] => descs.map((d, i) => `${base}(${i}:${d})`);

const AGG_ITEMS = ["evenness:odd,num:1", "evenness:even,num:2", "evenness:odd,num:3", "evenness:even,num:4"];

/** Example file (path relative to the corpus folder, as in EXPECTED.tsv) -> checks. */
export const NODE_CHECKS: Record<string, NodeCheck[]> = {
  // --- single pods -------------------------------------------------------------------------------------------
  "hello-world.yaml": singlePod(),
  "arguments-parameters.yaml": singlePod(),
  "global-parameters.yaml": singlePod(),
  "input-artifact-raw.yaml": singlePod(),
  "memoize-simple.yaml": singlePod(),
  "timeouts-step.yaml": [failed("{wf}", "Pod", [])],
  "init-container.yaml": singlePod(),
  "sidecar.yaml": singlePod(),
  "sidecar-nginx.yaml": singlePod(),
  "volumes-emptydir.yaml": singlePod(),
  "artifact-path-placeholders.yaml": singlePod(),
  "expression-destructure-json.yaml": singlePod(),
  "expression-destructure-json-complex.yaml": singlePod(),
  "expression-reusing-verbose-snippets.yaml": singlePod(),
  // Resource templates run in a pod too.
  "k8s-owner-reference.yaml": singlePod(),
  "k8s-patch-pod.yaml": singlePod(),
  "k8s-patch-json-pod.yaml": singlePod(),
  "k8s-patch-merge-pod.yaml": singlePod(),

  // --- steps -------------------------------------------------------------------------------------------------
  "steps.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].hello1"]),
    ok("{wf}[0].hello1", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].hello2a", "{wf}[1].hello2b"]),
    ok("{wf}[1].hello2a", "Pod", []),
    ok("{wf}[1].hello2b", "Pod", []),
    absent("{wf}[2]"),
  ],
  "steps-inline-workflow.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].a"]),
    ok("{wf}[0].a", "Pod", []),
  ],
  "pod-metadata.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].hello1"]),
    ok("{wf}[0].hello1", "Pod", []),
  ],
  "pod-metadata-wf-field.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].hello1"]),
    ok("{wf}[0].hello1", "Pod", []),
  ],
  "pod-resources-template-override.yaml": twoSteps("small", "large"),
  "artifact-passing-explicit-plugin.yaml": twoSteps("generate-artifact", "consume-artifact"),
  "scripts-bash.yaml": twoSteps("generate", "print"),
  "scripts-python.yaml": twoSteps("generate", "print"),
  "scripts-javascript.yaml": twoSteps("generate", "print"),
  "artifact-passing.yaml": twoSteps("generate-artifact", "consume-artifact"),
  "output-parameter.yaml": twoSteps("generate-parameter", "consume-parameter"),
  "volumes-pvc.yaml": twoSteps("generate", "print"),
  "artifact-passing-subpath.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].generate-artifact", "Pod", ["{wf}[1]"]),
    ok("{wf}[1].list-artifact", "Pod", ["{wf}[2]"]),
    ok("{wf}[2].consume-artifact", "Pod", []),
  ],

  // --- continueOn --------------------------------------------------------------------------------------------
  "continue-on-fail.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].A"]),
    ok("{wf}[0].A", "Pod", ["{wf}[1]"]),
    // C failed but continueOn.failed keeps its group (and so the workflow) going.
    ok("{wf}[1]", "StepGroup", ["{wf}[1].B", "{wf}[1].C"]),
    ok("{wf}[1].B", "Pod", ["{wf}[2]"]),
    failed("{wf}[1].C", "Pod", ["{wf}[2]"]),
    ok("{wf}[2]", "StepGroup", ["{wf}[2].D"]),
    ok("{wf}[2].D", "Pod", []),
  ],
  "exit-code-output-variable.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].failing-container"]),
    failed("{wf}[0].failing-container", "Pod", ["{wf}[1]"]),
    ok("{wf}[1].echo-container", "Pod", []),
  ],
  "status-reference.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].flakey-container"]),
    failed("{wf}[0].flakey-container", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].failed", "{wf}[1].succeeded"]),
    ok("{wf}[1].failed", "Pod", []),
    skipped("{wf}[1].succeeded", []),
  ],

  // --- conditionals (when) -----------------------------------------------------------------------------------
  "conditionals.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", [
      "{wf}[0].print-hello-govaluate",
      "{wf}[0].print-hello-expr",
      "{wf}[0].print-hello-expr-json",
    ]),
    ok("{wf}[0].print-hello-govaluate", "Pod", []),
    ok("{wf}[0].print-hello-expr", "Pod", []),
    ok("{wf}[0].print-hello-expr-json", "Pod", []),
  ],
  "coinflip.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].flip-coin", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].heads", "{wf}[1].tails"]),
    exists("{wf}[1].heads"),
    exists("{wf}[1].tails"),
  ],
  "coinflip-recursive.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].flip-coin", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].heads", "{wf}[1].tails"]),
    exists("{wf}[1].heads"),
    exists("{wf}[1].tails"),
  ],
  "conditionals-complex.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].flip-coin", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].heads", "{wf}[1].tails"]),
    exists("{wf}[1].heads"),
    exists("{wf}[1].tails"),
    ok("{wf}[2]", "StepGroup", ["{wf}[2].flip-again"]),
    ok("{wf}[2].flip-again", "Pod", ["{wf}[3]"]),
    ok("{wf}[3]", "StepGroup", ["{wf}[3].complex-condition", "{wf}[3].heads-regex", "{wf}[3].tails-regex"]),
    exists("{wf}[3].complex-condition"),
    exists("{wf}[3].heads-regex"),
    exists("{wf}[3].tails-regex"),
  ],
  "conditional-parameters.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].flip-coin", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].heads", "{wf}[1].tails"]),
    exists("{wf}[1].heads"),
    exists("{wf}[1].tails"),
  ],
  "conditional-artifacts.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].flip-coin", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].heads", "{wf}[1].tails"]),
    exists("{wf}[1].heads"),
    exists("{wf}[1].tails"),
  ],
  "dag-conditional-parameters.yaml": [
    ok("{wf}", "DAG", ["{wf}.flip-coin"]),
    // A task skipped by `when` is still wired to its dependencies.
    ok("{wf}.flip-coin", "Pod", ["{wf}.heads", "{wf}.tails"]),
    exists("{wf}.heads"),
    exists("{wf}.tails"),
  ],
  "dag-conditional-artifacts.yaml": [
    ok("{wf}", "DAG", ["{wf}.flip-coin"]),
    ok("{wf}.flip-coin", "Pod", ["{wf}.heads", "{wf}.tails"]),
    exists("{wf}.heads"),
    exists("{wf}.tails"),
  ],

  // --- loops -------------------------------------------------------------------------------------------------
  "loops.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", loopChildren("{wf}[0].print-message-loop", ["hello world", "goodbye world"])),
    ok("{wf}[0].print-message-loop(0:hello world)", "Pod", []),
    ok("{wf}[0].print-message-loop(1:goodbye world)", "Pod", []),
  ],
  "withsequence-nested-result.yaml": [
    // The sequence ends at a random number in 0..5 but always starts at 1 (it counts down to 0), so the
    // first child of each loop always exists.
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].hello-a", "Pod", ["{wf}[1]"]),
    ok("{wf}[1]", "StepGroup"),
    ok("{wf}[1].hello-b(0:1)", "Steps", ["{wf}[1].hello-b(0:1)[0]"]),
    ok("{wf}[1].hello-b(0:1)[0]", "StepGroup", ["{wf}[1].hello-b(0:1)[0].hello-b"]),
    ok("{wf}[1].hello-b(0:1)[0].hello-b", "Pod", ["{wf}[1].hello-b(0:1)[1]"]),
    ok("{wf}[1].hello-b(0:1)[1]", "StepGroup"),
    ok("{wf}[1].hello-b(0:1)[1].hello-c(0:1)", "Pod", []),
  ],
  "parameter-aggregation.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", loopChildren("{wf}[0].odd-or-even", ["1", "2", "3", "4"])),
    ...loopChildren("{wf}[0].odd-or-even", ["1", "2", "3", "4"]).map((n) => ok(n, "Pod", ["{wf}[1]"])),
    ok("{wf}[1].print-nums", "Pod", ["{wf}[2]"]),
    ok("{wf}[2].print-evenness", "Pod", ["{wf}[3]"]),
    // withParam over the aggregated output parameters: map items, named by their sorted `key:value` pairs;
    // `when` is evaluated per child, so odd numbers give Skipped children, which still lead to the next group.
    ok("{wf}[3]", "StepGroup", loopChildren("{wf}[3].divide-by-2", AGG_ITEMS)),
    skipped("{wf}[3].divide-by-2(0:evenness:odd,num:1)", ["{wf}[4]"]),
    ok("{wf}[3].divide-by-2(1:evenness:even,num:2)", "Pod", ["{wf}[4]"]),
    skipped("{wf}[3].divide-by-2(2:evenness:odd,num:3)", ["{wf}[4]"]),
    ok("{wf}[3].divide-by-2(3:evenness:even,num:4)", "Pod", ["{wf}[4]"]),
    // Aggregated results of the Succeeded children only: [1, 2].
    ok("{wf}[4]", "StepGroup", ["{wf}[4].print(0:1)", "{wf}[4].print(1:2)"]),
    ok("{wf}[4].print(0:1)", "Pod", []),
    ok("{wf}[4].print(1:2)", "Pod", []),
    absent("{wf}[4].print(2:3)"),
  ],
  "parameter-aggregation-script.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ...loopChildren("{wf}[0].odd-or-even", ["1", "2", "3", "4"]).map((n) => ok(n, "Pod", ["{wf}[1]"])),
    // Items come from the aggregated JSON results: maps whose `num` is a number.
    ok("{wf}[1]", "StepGroup", loopChildren("{wf}[1].divide-by-2", AGG_ITEMS)),
    skipped("{wf}[1].divide-by-2(0:evenness:odd,num:1)", []),
    ok("{wf}[1].divide-by-2(1:evenness:even,num:2)", "Pod", []),
    skipped("{wf}[1].divide-by-2(2:evenness:odd,num:3)", []),
    ok("{wf}[1].divide-by-2(3:evenness:even,num:4)", "Pod", []),
  ],
  "parameter-aggregation-dag.yaml": [
    ok("{wf}", "DAG", ["{wf}.odd-or-even"]),
    ok("{wf}.odd-or-even", "TaskGroup", loopChildren("{wf}.odd-or-even", ["1", "2", "3", "4"])),
    ...loopChildren("{wf}.odd-or-even", ["1", "2", "3", "4"]).map((n) =>
      ok(n, "Pod", ["{wf}.print-nums", "{wf}.print-evenness", "{wf}.divide-by-2"]),
    ),
    ok("{wf}.print-nums", "Pod", []),
    ok("{wf}.print-evenness", "Pod", []),
    ok("{wf}.divide-by-2", "TaskGroup", loopChildren("{wf}.divide-by-2", AGG_ITEMS)),
    // A TaskGroup's outbound nodes are its children, Skipped ones included.
    skipped("{wf}.divide-by-2(0:evenness:odd,num:1)", ["{wf}.print"]),
    ok("{wf}.divide-by-2(1:evenness:even,num:2)", "Pod", ["{wf}.print"]),
    skipped("{wf}.divide-by-2(2:evenness:odd,num:3)", ["{wf}.print"]),
    ok("{wf}.divide-by-2(3:evenness:even,num:4)", "Pod", ["{wf}.print"]),
    ok("{wf}.print", "TaskGroup", ["{wf}.print(0:1)", "{wf}.print(1:2)"]),
    ok("{wf}.print(0:1)", "Pod", []),
    ok("{wf}.print(1:2)", "Pod", []),
  ],
  "dag-custom-metrics.yaml": [
    ok("{wf}", "DAG", ["{wf}.TEST-ONE", "{wf}.TEST-TWO"]),
    ok("{wf}.TEST-ONE", "TaskGroup", [
      "{wf}.TEST-ONE(0:command:ONE-A,tag:TEST-ONE-A)",
      "{wf}.TEST-ONE(1:command:ONE-B,tag:TEST-ONE-B)",
    ]),
    ok("{wf}.TEST-ONE(0:command:ONE-A,tag:TEST-ONE-A)", "Pod", []),
    ok("{wf}.TEST-ONE(1:command:ONE-B,tag:TEST-ONE-B)", "Pod", []),
    ok("{wf}.TEST-TWO", "TaskGroup", [
      "{wf}.TEST-TWO(0:command:TWO-A,tag:TEST-TWO-A)",
      "{wf}.TEST-TWO(1:command:TWO-B,tag:TEST-TWO-B)",
    ]),
    ok("{wf}.TEST-TWO(0:command:TWO-A,tag:TEST-TWO-A)", "Pod", []),
    ok("{wf}.TEST-TWO(1:command:TWO-B,tag:TEST-TWO-B)", "Pod", []),
  ],
  "expression-tag-template-workflow.yaml": [
    // withParam `toJson(filter([1, 3], {# > 1}))` = [3]: one numeric item.
    ok("{wf}", "DAG", ["{wf}.task-0"]),
    ok("{wf}.task-0", "TaskGroup", ["{wf}.task-0(0:3)"]),
    ok("{wf}.task-0(0:3)", "Pod", []),
    absent("{wf}.task-0(1:1)"),
  ],
  "map-reduce.yaml": [
    ok("{wf}", "DAG", ["{wf}.split"]),
    ok("{wf}.split", "Pod", ["{wf}.map"]),
    ok("{wf}.map", "TaskGroup", loopChildren("{wf}.map", ["0", "1", "2", "3"])),
    ...loopChildren("{wf}.map", ["0", "1", "2", "3"]).map((n) => ok(n, "Pod", ["{wf}.reduce"])),
    ok("{wf}.reduce", "Pod", []),
  ],

  // --- DAG ---------------------------------------------------------------------------------------------------
  "dag-diamond.yaml": [
    ok("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Pod", ["{wf}.B", "{wf}.C"]),
    ok("{wf}.B", "Pod", ["{wf}.D"]),
    ok("{wf}.C", "Pod", ["{wf}.D"]),
    ok("{wf}.D", "Pod", []),
  ],
  "dag-diamond-steps.yaml": [
    ok("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Steps", ["{wf}.A[0]"]),
    ok("{wf}.A[0]", "StepGroup", loopChildren("{wf}.A[0].echo", ["1", "2", "3"])),
    // B and C depend on A, a Steps node: its outbound nodes are the pods of its last group.
    ...loopChildren("{wf}.A[0].echo", ["1", "2", "3"]).map((n) => ok(n, "Pod", ["{wf}.B", "{wf}.C"])),
    ok("{wf}.B", "Steps", ["{wf}.B[0]"]),
    ...loopChildren("{wf}.B[0].echo", ["1", "2", "3"]).map((n) => ok(n, "Pod", ["{wf}.D"])),
    ok("{wf}.C", "Steps", ["{wf}.C[0]"]),
    ...loopChildren("{wf}.C[0].echo", ["1", "2", "3"]).map((n) => ok(n, "Pod", ["{wf}.D"])),
    ok("{wf}.D", "Steps", ["{wf}.D[0]"]),
    ok("{wf}.D[0]", "StepGroup", loopChildren("{wf}.D[0].echo", ["1", "2", "3"])),
    ...loopChildren("{wf}.D[0].echo", ["1", "2", "3"]).map((n) => ok(n, "Pod", [])),
  ],
  "dag-multiroot.yaml": [
    ok("{wf}", "DAG", ["{wf}.A", "{wf}.B"]),
    ok("{wf}.A", "Pod", ["{wf}.C", "{wf}.D"]),
    ok("{wf}.B", "Pod", ["{wf}.D"]),
    ok("{wf}.C", "Pod", []),
    ok("{wf}.D", "Pod", []),
  ],
  "dag-targets.yaml": [
    // Target E: only E and its ancestors A and C run; B and D are never created.
    ok("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Pod", ["{wf}.C"]),
    ok("{wf}.C", "Pod", ["{wf}.E"]),
    ok("{wf}.E", "Pod", []),
    absent("{wf}.B"),
    absent("{wf}.D"),
  ],
  "dag-inline-workflow.yaml": [ok("{wf}", "DAG", ["{wf}.a"]), ok("{wf}.a", "Pod", [])],
  "key-only-artifact.yaml": [
    ok("{wf}", "DAG", ["{wf}.generate"]),
    ok("{wf}.generate", "Pod", ["{wf}.consume"]),
    ok("{wf}.consume", "Pod", []),
  ],
  "pod-spec-from-previous-step.yaml": [
    ok("{wf}", "DAG", ["{wf}.parse-resources"]),
    ok("{wf}.parse-resources", "Pod", ["{wf}.setup-resources"]),
    ok("{wf}.setup-resources", "Pod", []),
  ],
  "dag-enhanced-depends.yaml": [
    ok("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Pod", ["{wf}.B", "{wf}.C", "{wf}.should-execute-1"]),
    ok("{wf}.B", "Pod", ["{wf}.should-execute-2", "{wf}.should-not-execute"]),
    failed("{wf}.C", "Pod", ["{wf}.should-execute-1", "{wf}.should-execute-2", "{wf}.should-not-execute"]),
    ok("{wf}.should-execute-1", "Pod", []),
    ok("{wf}.should-execute-2", "Pod", ["{wf}.should-execute-3"]),
    // `B && C` with C Failed: Omitted, and still wired to its dependencies and dependents.
    omitted("{wf}.should-not-execute", ["{wf}.should-execute-3"]),
    ok("{wf}.should-execute-3", "Pod", []),
  ],
  "dag-continue-on-fail.yaml": [
    // G is Omitted and reached only through the failed E branch, so the DAG fails.
    failed("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Pod", ["{wf}.B", "{wf}.C", "{wf}.E", "{wf}.F"]),
    failed("{wf}.B", "Pod", ["{wf}.D"]),
    ok("{wf}.C", "Pod", ["{wf}.D"]),
    ok("{wf}.D", "Pod", []),
    failed("{wf}.E", "Pod", ["{wf}.G"]),
    ok("{wf}.F", "Pod", ["{wf}.G"]),
    omitted("{wf}.G", []),
  ],
  "dag-disable-failFast.yaml": [
    failed("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Pod", ["{wf}.B", "{wf}.C"]),
    ok("{wf}.B", "Retry", ["{wf}.B(0)"]),
    // D depends on B, a Retry node: its outbound node is its last attempt.
    ok("{wf}.B(0)", "Pod", ["{wf}.D"]),
    absent("{wf}.B(1)"),
    // limit "3": four attempts, all failing.
    failed("{wf}.C", "Retry", ["{wf}.C(0)", "{wf}.C(1)", "{wf}.C(2)", "{wf}.C(3)"]),
    failed("{wf}.C(0)", "Pod", []),
    failed("{wf}.C(1)", "Pod", []),
    failed("{wf}.C(2)", "Pod", []),
    failed("{wf}.C(3)", "Pod", []),
    absent("{wf}.C(4)"),
    // failFast: false lets the B branch finish.
    ok("{wf}.D", "Pod", ["{wf}.E"]),
    ok("{wf}.E", "Pod", []),
  ],
  "dag-task-level-timeout.yaml": [
    failed("{wf}", "DAG", ["{wf}.A"]),
    ok("{wf}.A", "Pod", ["{wf}.B", "{wf}.C"]),
    // sleep 15s: over B's 10s timeout, under A's and C's 20s.
    failed("{wf}.B", "Pod", []),
    ok("{wf}.C", "Pod", []),
  ],

  // --- retries -----------------------------------------------------------------------------------------------
  // Random exit codes: only the shape is certain.
  "retry-container.yaml": [exists("{wf}", "Retry"), exists("{wf}(0)", "Pod")],
  "retry-script.yaml": [exists("{wf}", "Retry"), exists("{wf}(0)", "Pod")],

  // --- exit handlers and hooks -------------------------------------------------------------------------------
  "exit-handlers.yaml": [
    // The workflow's exit handler is not a child of the root node.
    failed("{wf}", "Pod", []),
    ok("{wf}.onExit", "Steps", ["{wf}.onExit[0]"]),
    ok("{wf}.onExit[0]", "StepGroup", [
      "{wf}.onExit[0].notify",
      "{wf}.onExit[0].celebrate",
      "{wf}.onExit[0].cry",
    ]),
    ok("{wf}.onExit[0].notify", "Pod", []),
    skipped("{wf}.onExit[0].celebrate", []),
    ok("{wf}.onExit[0].cry", "Pod", []),
  ],
  "exit-handler-step-level.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].hello1"]),
    ok("{wf}[0].hello1", "Pod", ["{wf}[0].hello1.onExit", "{wf}[1]"]),
    ok("{wf}[0].hello1.onExit", "Pod", []),
    ok("{wf}[1]", "StepGroup", ["{wf}[1].hello2a", "{wf}[1].hello2b"]),
    ok("{wf}[1].hello2a", "Pod", ["{wf}[1].hello2a.onExit"]),
    ok("{wf}[1].hello2a.onExit", "Pod", []),
    ok("{wf}[1].hello2b", "Pod", ["{wf}[1].hello2b.onExit"]),
    ok("{wf}[1].hello2b.onExit", "Pod", []),
  ],
  "exit-handler-with-param.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].step-1", "Pod", ["{wf}[0].step-1.onExit"]),
    ok("{wf}[0].step-1.onExit", "Pod", []),
  ],
  "exit-handler-with-artifacts.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].step-1", "Pod", ["{wf}[0].step-1.onExit"]),
    ok("{wf}[0].step-1.onExit", "Pod", []),
  ],
  "global-outputs.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].generate", "Pod", ["{wf}[1]"]),
    ok("{wf}[1].consume-globals", "Steps", ["{wf}[1].consume-globals[0]"]),
    ok("{wf}[1].consume-globals[0].consume-global-param", "Pod", []),
    ok("{wf}[1].consume-globals[0].consume-global-art", "Pod", []),
    ok("{wf}.onExit", "Steps", ["{wf}.onExit[0]"]),
    ok("{wf}.onExit[0]", "StepGroup", [
      "{wf}.onExit[0].consume-global-param",
      "{wf}.onExit[0].consume-global-art",
    ]),
    ok("{wf}.onExit[0].consume-global-param", "Pod", []),
    ok("{wf}.onExit[0].consume-global-art", "Pod", []),
  ],
  "life-cycle-hooks-tmpl-level.yaml": [
    // The `success` hooks fire once their step has Succeeded; the `running` ones depend on timing.
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].step-1", "Pod"),
    exists("{wf}[0].step-1.hooks.success", "HTTP"),
    ok("{wf}[1].step2", "Pod"),
    exists("{wf}[1].step2.hooks.success", "HTTP"),
  ],
  "life-cycle-hooks-wf-level.yaml": [
    // `hooks.exit` is the workflow's exit handler, named like `onExit`. The root's children are not checked:
    // the `running` hook becomes one of them if it fires, which depends on timing.
    ok("{wf}", "Steps"),
    ok("{wf}[0].step1", "Pod", []),
    exists("{wf}.onExit", "HTTP"),
  ],

  // --- HTTP, daemons -----------------------------------------------------------------------------------------
  "http-hello-world.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].good", "{wf}[0].bad"]),
    ok("{wf}[0].good", "HTTP", []),
    failed("{wf}[0].bad", "HTTP", []),
  ],
  "daemon-nginx.yaml": [
    // A daemon is killed and set Succeeded when its steps template completes.
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].nginx-server", "Pod", ["{wf}[1]"]),
    ok("{wf}[1].nginx-client", "Pod", []),
  ],
  "daemon-step.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0].influx", "Pod", ["{wf}[1]"]),
    ok("{wf}[1].init-database", "Pod", ["{wf}[2]"]),
    ok("{wf}[2]", "StepGroup", ["{wf}[2].producer-1", "{wf}[2].producer-2", "{wf}[2].producer-3"]),
    ok("{wf}[2].producer-1", "Pod", ["{wf}[3]"]),
    ok("{wf}[2].producer-2", "Pod", ["{wf}[3]"]),
    ok("{wf}[2].producer-3", "Pod", ["{wf}[3]"]),
    ok("{wf}[3].consumer", "Pod", []),
  ],

  // --- containerSet ------------------------------------------------------------------------------------------
  "container-set-template/graph-workflow.yaml": [
    ok("{wf}", "Pod", ["{wf}.a"]),
    ok("{wf}.a", "Container", ["{wf}.b", "{wf}.c"]),
    ok("{wf}.b", "Container", ["{wf}.d"]),
    ok("{wf}.c", "Container", ["{wf}.d"]),
    ok("{wf}.d", "Container", []),
  ],
  "container-set-template/parallel-workflow.yaml": [
    ok("{wf}", "Pod", ["{wf}.a", "{wf}.b"]),
    ok("{wf}.a", "Container", []),
    ok("{wf}.b", "Container", []),
  ],
  "container-set-template/sequence-workflow.yaml": [
    ok("{wf}", "Pod", ["{wf}.a"]),
    ok("{wf}.a", "Container", ["{wf}.b"]),
    ok("{wf}.b", "Container", ["{wf}.c"]),
    ok("{wf}.c", "Container", []),
  ],
  "container-set-template/workspace-workflow.yaml": [
    ok("{wf}", "Pod", ["{wf}.a", "{wf}.main"]),
    ok("{wf}.a", "Container", []),
    ok("{wf}.main", "Container", []),
  ],
  "container-set-template/outputs-result-workflow.yaml": [
    ok("{wf}", "DAG", ["{wf}.a"]),
    // A containerSet pod's outbound nodes are its containers' (here `main`), so b hangs below a.main.
    ok("{wf}.a", "Pod", ["{wf}.a.main"]),
    ok("{wf}.a.main", "Container", ["{wf}.b"]),
    ok("{wf}.b", "Pod", []),
  ],

  // --- templateRef / workflowTemplateRef ---------------------------------------------------------------------
  "workflow-template/hello-world.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].call-print-message"]),
    ok("{wf}[0].call-print-message", "Pod", []),
  ],
  "workflow-template/dag.yaml": templateRefDiamond(),
  "workflow-template/steps.yaml": templateRefSteps(),
  "workflow-template/workflow-template-ref.yaml": singlePod(),
  "workflow-template/workflow-template-ref-with-entrypoint-arg-passing.yaml": singlePod(),
  "workflow-template/workflow-archive-logs.yaml": singlePod(),
  "cluster-workflow-template/cluster-wftmpl-dag.yaml": templateRefDiamond(),
  "cluster-workflow-template/mixed-cluster-namespaced-wftmpl-steps.yaml": templateRefSteps(),
  "cluster-workflow-template/workflow-template-ref.yaml": singlePod(),
  "cluster-workflow-template/workflow-template-ref-with-entrypoint-arg-passing.yaml": singlePod(),

  // --- a bit of everything -----------------------------------------------------------------------------------
  "variables-showcase.yaml": [
    ok("{wf}", "Steps", ["{wf}[0]"]),
    ok("{wf}[0]", "StepGroup", ["{wf}[0].prepare", "{wf}[0].svc"]),
    ok("{wf}[0].prepare", "Pod", ["{wf}[1]"]),
    // Daemons are killed and set Succeeded when their steps/DAG template completes.
    ok("{wf}[0].svc", "Pod", ["{wf}[1]"]),
    // A looped step with a retryStrategy: each loop child is a Retry node with its attempts.
    ok("{wf}[1]", "StepGroup", loopChildren("{wf}[1].fanout", ["k:alpha,v:1", "k:beta,v:2"])),
    ok("{wf}[1].fanout(0:k:alpha,v:1)", "Retry", ["{wf}[1].fanout(0:k:alpha,v:1)(0)"]),
    ok("{wf}[1].fanout(0:k:alpha,v:1)(0)", "Pod", ["{wf}[2]"]),
    ok("{wf}[1].fanout(1:k:beta,v:2)", "Retry", ["{wf}[1].fanout(1:k:beta,v:2)(0)"]),
    ok("{wf}[1].fanout(1:k:beta,v:2)(0)", "Pod", ["{wf}[2]"]),
    ok("{wf}[2].consume", "Pod", ["{wf}[3]"]),
    ok("{wf}[3].dag-stage", "DAG", ["{wf}[3].dag-stage.svc", "{wf}[3].dag-stage.a"]),
    ok("{wf}[3].dag-stage.svc", "Pod", ["{wf}[3].dag-stage.b"]),
    ok("{wf}[3].dag-stage.a", "Pod", ["{wf}[3].dag-stage.b"]),
    ok("{wf}[3].dag-stage.b", "Pod", ["{wf}[3].dag-stage.c-loop"]),
    ok("{wf}[3].dag-stage.c-loop", "TaskGroup", loopChildren("{wf}[3].dag-stage.c-loop", ["x", "y", "z"])),
    ...loopChildren("{wf}[3].dag-stage.c-loop", ["x", "y", "z"]).map((n) =>
      ok(n, "Pod", ["{wf}[3].dag-stage.gather"]),
    ),
    ok("{wf}[3].dag-stage.gather", "Pod", []),
    ok("{wf}.onExit", "Steps", ["{wf}.onExit[0]"]),
    ok("{wf}.onExit[0].report", "Pod", []),
  ],
};

/**
 * Asserts every check against a finished workflow. All mismatches are collected and reported together, each
 * naming the example file (when the checks come from NODE_CHECKS), the node and the field.
 */
export function checkNodes(wf: Workflow, checks: NodeCheck[]): void {
  const wfName = wf.metadata.name ?? "";
  const file = Object.entries(NODE_CHECKS).find(([, c]) => c === checks)?.[0] ?? "(checks)";
  const nodes = Object.values(wf.status?.nodes ?? {});
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const nameOfId = new Map(nodes.map((n) => [n.id, n.name]));
  const expand = (name: string) => name.replaceAll("{wf}", wfName);
  const problems: string[] = [];
  let missing = false;

  for (const check of checks) {
    const name = expand(check.name);
    const node = byName.get(name);
    const where = `${file}: node "${name}"`;
    if (check.absent) {
      if (node) problems.push(`${where} should not exist (type ${node.type}, phase ${node.phase})`);
      continue;
    }
    if (!node) {
      problems.push(`${where} is missing`);
      missing = true;
      continue;
    }
    if (check.type && node.type !== check.type)
      problems.push(`${where} type: expected ${check.type}, got ${node.type}`);
    if (check.phase && node.phase !== check.phase) {
      const message = node.message ? ` (message: ${node.message})` : "";
      problems.push(`${where} phase: expected ${check.phase}, got ${node.phase}${message}`);
    }
    if (check.children) {
      const actual = (node.children ?? []).map((id) => nameOfId.get(id) ?? `<unknown node id ${id}>`).sort();
      const expected = check.children.map(expand).sort();
      if (JSON.stringify(actual) !== JSON.stringify(expected)) {
        problems.push(`${where} children: expected [${expected.join(", ")}], got [${actual.join(", ")}]`);
      }
    }
  }

  // Listing the nodes that do exist makes a naming difference obvious at a glance.
  const known = missing ? `\nnodes of ${wfName}:\n  ${[...byName.keys()].sort().join("\n  ")}` : "";
  const report = `${file}: ${problems.length} node check(s) failed:\n- ${problems.join("\n- ")}${known}\n`;
  expect(problems, report).toEqual([]);
}
