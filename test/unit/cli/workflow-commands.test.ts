import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ControllerEvent } from "../../../runtime/interfaces/events.js";
import type { Store } from "../../../runtime/interfaces/store.js";
import { openEmbeddedStore } from "../../../runtime/store/index.js";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { printWorkflows, renderList } from "../../../src/cli/commands/control.js";
import { storeUpdatesToEvents } from "../../../src/cli/commands/workflow.js";
import {
  bashCompletion,
  describeCommands,
  fishCompletion,
  zshCompletion,
} from "../../../src/cli/completion.js";
import { buildProgram } from "../../../src/cli/main.js";
import { filterRuns, parseAge, parseLabelSelector } from "../../../src/run/query.js";
import { prepareResubmit, prepareRetry, storeSubmitted } from "../../../src/run/retry.js";
import { SOURCE_ANNOTATION } from "../../../src/run/store.js";
import { followWorkflow } from "../../../src/run/watch.js";
import { compileYaml } from "../controller/helpers.js";

const pod = (name: string, phase: NodeStatus["phase"], extra: Partial<NodeStatus> = {}): NodeStatus => ({
  id: name,
  name,
  displayName: name,
  type: "Pod",
  phase,
  ...extra,
});

function wf(
  name: string,
  phase: string,
  extra: Partial<Workflow["metadata"]> = {},
  finishedAt?: string,
): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name, namespace: "default", ...extra },
    spec: { arguments: { parameters: [{ name: "p", value: "1" }] } },
    status: {
      phase: phase as never,
      startedAt: "2030-01-01T00:00:00Z",
      ...(finishedAt ? { finishedAt } : {}),
    },
  };
}

const stores: Store[] = [];
async function store(): Promise<Store> {
  const s = await openEmbeddedStore({ dir: mkdtempSync(join(tmpdir(), "skiff-cli2-")), durable: false });
  stores.push(s);
  return s;
}
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

describe("list filters", () => {
  const NOW = Date.parse("2030-01-02T00:00:00Z");
  const all = [
    wf("a", "Succeeded", { labels: { team: "web", tier: "1" } }, "2030-01-01T00:00:00Z"),
    wf("b", "Failed", { labels: { team: "api" } }, "2030-01-01T23:30:00Z"),
    wf("c", "Running", { labels: { team: "web" } }),
    { ...wf("d", ""), status: undefined },
  ];
  const names = (f: Parameters<typeof filterRuns>[1]) => filterRuns(all, f, NOW).map((w) => w.metadata.name);

  it("phase, completed, running, prefix, labels and age", () => {
    expect(names({ phases: ["Failed", "Pending"] })).toEqual(["b", "d"]);
    expect(names({ completed: true })).toEqual(["a", "b"]);
    expect(names({ running: true })).toEqual(["c"]);
    expect(names({ prefix: "c" })).toEqual(["c"]);
    expect(names({ selector: "team=web" })).toEqual(["a", "c"]);
    expect(names({ selector: "team!=web" })).toEqual(["b", "d"]);
    expect(names({ selector: "tier" })).toEqual(["a"]);
    expect(names({ selector: "!tier,team==web" })).toEqual(["c"]);
    expect(names({ olderThanMs: parseAge("1h") })).toEqual(["a"]);
    expect(names({ olderThanMs: parseAge("10m") })).toEqual(["a", "b"]);
  });

  it("durations and selectors are parsed strictly", () => {
    expect(parseAge("1h30m")).toBe(5_400_000);
    expect(parseAge("2d")).toBe(172_800_000);
    expect(parseAge("1.5s")).toBe(1500);
    expect(() => parseAge("soon")).toThrow(/SKF-RUN-010|not a duration/);
    expect(() => parseAge("10")).toThrow(/not a duration/);
    expect(() => parseLabelSelector("=x")).toThrow(/not a label requirement/);
    expect(() => parseLabelSelector("!a=b")).toThrow(/not a label requirement/);
  });

  it("wide adds duration, progress and parameters", () => {
    const out = renderList([wf("a", "Succeeded", {}, "2030-01-01T00:01:05Z")], true).split("\n");
    expect(out[0]).toMatch(/^NAME +STATUS +STARTED +FINISHED +DURATION +PROGRESS +MESSAGE +PARAMETERS$/);
    expect(out[1]).toMatch(/^a +Succeeded +2030-01-01T00:00:00Z +2030-01-01T00:01:05Z +1m5s +p=1$/);
  });
});

describe("list as argo shows it", () => {
  const at = (w: Workflow, startedAt: string): Workflow => ({ ...w, status: { ...w.status, startedAt } });

  it("suspended workflows are Running (Suspended), terminated ones Failed (Terminated)", () => {
    const suspended: Workflow = { ...wf("s", "Running"), spec: { suspend: true } };
    const waiting: Workflow = {
      ...wf("w", "Running"),
      status: {
        phase: "Running",
        startedAt: "2030-01-01T00:00:00Z",
        nodes: { x: { ...pod("x", "Running"), type: "Suspend" } },
      },
    };
    const terminated: Workflow = { ...wf("t", "Failed"), spec: { shutdown: "Terminate" } };
    const out = renderList([suspended, waiting, terminated]);
    expect(out).toMatch(/^s +Running \(Suspended\) /m);
    expect(out).toMatch(/^w +Running \(Suspended\) /m);
    expect(out).toMatch(/^t +Failed \(Terminated\) /m);
  });

  it("-o name lists in the table's order (newest first)", () => {
    const wfs = [
      at(wf("old", "Succeeded"), "2030-01-01T00:00:00Z"),
      at(wf("new", "Succeeded"), "2030-01-03T00:00:00Z"),
      at(wf("mid", "Succeeded"), "2030-01-02T00:00:00Z"),
    ];
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((c: string | Uint8Array) => {
      written.push(String(c));
      return true;
    });
    try {
      printWorkflows(wfs, "name");
    } finally {
      spy.mockRestore();
    }
    const table = renderList(wfs)
      .split("\n")
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(" ")[0]);
    expect(written.join("").split("\n").filter(Boolean)).toEqual(table);
    expect(table).toEqual(["new", "mid", "old"]);
  });
});

describe("watch: stored versions become reporter events", () => {
  it("within one second a predecessor's completion comes before the next step's start", () => {
    const events: ControllerEvent[] = [];
    const push = storeUpdatesToEvents((e) => events.push(e));
    const T = "2030-01-01T00:00:01Z";
    push({
      ...wf("w", "Running"),
      status: {
        phase: "Running",
        nodes: {
          a: pod("a", "Succeeded", { startedAt: "2030-01-01T00:00:00Z", finishedAt: T }),
          b: pod("b", "Running", { startedAt: T }),
        },
      },
    });
    const nodeEvents = events.flatMap((e) =>
      e.type === "node-updated" ? [`${e.node.name}:${e.node.phase}`] : [],
    );
    expect(nodeEvents).toEqual(["a:Succeeded", "b:Running"]);
  });

  it("a node is reported when it appears and each time its phase changes", () => {
    const events: ControllerEvent[] = [];
    const push = storeUpdatesToEvents((e) => events.push(e));
    const v = (nodes: NodeStatus[]): Workflow => ({
      ...wf("w", "Running"),
      status: { phase: "Running", nodes: Object.fromEntries(nodes.map((n) => [n.id, n])) },
    });
    push(v([pod("a", "Pending")]));
    push(v([pod("a", "Pending")]));
    push(v([pod("a", "Succeeded"), pod("b", "Running")]));
    const nodeEvents = events.flatMap((e) =>
      e.type === "node-updated" ? [`${e.node.name}:${e.previousPhase ?? "-"}>${e.node.phase}`] : [],
    );
    expect(nodeEvents).toEqual(["a:->Pending", "a:Pending>Succeeded", "b:->Running"]);
    expect(events[0]?.type).toBe("workflow-started");
    expect(events.filter((e) => e.type === "workflow-started")).toHaveLength(1);
  });

  it("followWorkflow ends with the completed version and refuses a workflow nobody runs", async () => {
    const s = await store();
    await s.put(wf("gone", "Running"));
    await expect(followWorkflow(s, "default", "gone", { pollMs: 10 })).rejects.toThrow(
      /workflow gone is not running \(phase Running, its process is gone\)/,
    );
    await s.put(wf("done", "Succeeded"));
    const seen: string[] = [];
    const done = await followWorkflow(s, "default", "done", {
      pollMs: 10,
      onUpdate: (w) => seen.push(w.status?.phase ?? ""),
    });
    expect(done.status?.phase).toBe("Succeeded");
    expect(seen).toEqual(["Succeeded"]);
    await expect(followWorkflow(s, "default", "nope", { pollMs: 10 })).rejects.toThrow(
      /SKF-RUN-003|not found/,
    );
  });
});

describe("retry and resubmit on the store", () => {
  const YAML = `
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: wf, labels: {team: x}}
spec:
  entrypoint: main
  arguments: {parameters: [{name: v, value: "1"}]}
  templates:
  - name: main
    container: {image: alpine}
`;
  const source = { paths: ["/x.yaml"], file: "/x.yaml", docIndex: 0, parameters: { v: "1" }, workspace: "/" };

  it("stores a submitted workflow as Pending with its source", async () => {
    const s = await store();
    const stored = await storeSubmitted(s, compileYaml(YAML), source);
    expect(stored.status?.phase).toBe("Pending");
    expect(JSON.parse(stored.metadata.annotations?.[SOURCE_ANNOTATION] ?? "")).toEqual(source);
    expect(stored.metadata.labels?.team).toBe("x");
  });

  it("retry resets the stored workflow and records new parameter values in its source", async () => {
    const s = await store();
    const failed: Workflow = {
      ...wf("wf", "Failed", { annotations: { [SOURCE_ANNOTATION]: JSON.stringify(source) } }),
      status: {
        phase: "Failed",
        message: "boom",
        finishedAt: "2030-01-01T00:00:00Z",
        nodes: { wf: pod("wf", "Failed") },
      },
    };
    await s.put(failed);
    const next = await prepareRetry(s, "default", "wf", { parameters: [["v", "2"]] });
    expect(next.status?.phase).toBe("Running");
    expect(next.status?.message).toBeUndefined();
    expect(next.status?.nodes).toEqual({});
    expect(JSON.parse(next.metadata.annotations?.[SOURCE_ANNOTATION] ?? "").parameters).toEqual({ v: "2" });
    await expect(prepareRetry(s, "default", "wf", {})).rejects.toThrow(
      /SKF-RUN-007|Cannot retry a workflow in phase Running/,
    );
    // Deleted but archived: retried from the archive.
    const archivedOnly: Workflow = {
      ...failed,
      metadata: { ...failed.metadata, name: "gone", uid: "u-gone" },
      status: { ...failed.status, nodes: { gone: pod("gone", "Failed") } },
    };
    await s.put(archivedOnly);
    await s.delete("default", "gone");
    const back = await prepareRetry(s, "default", "gone", {});
    expect(back.status?.phase).toBe("Running");
    expect(back.metadata.uid).toBe("u-gone");
    await expect(prepareRetry(s, "default", "never", {})).rejects.toThrow(/SKF-RUN-003|not found/);
    await s.put(wf("nosource", "Failed"));
    await expect(prepareRetry(s, "default", "nosource", {})).rejects.toThrow(/no recorded source/);
  });

  it("resubmit stores a new Pending workflow named from generateName, from the archive too", async () => {
    const s = await store();
    const old = wf("old", "Failed", {
      generateName: "gen-",
      annotations: { [SOURCE_ANNOTATION]: JSON.stringify(source) },
    });
    await s.put(old);
    await s.delete("default", "old");
    const next = await prepareResubmit(s, "default", "old", {});
    expect(next.metadata.name).toMatch(/^gen-[a-z0-9]{5}$/);
    expect(next.status?.phase).toBe("Pending");
    expect(next.metadata.labels?.["workflows.argoproj.io/resubmitted-from-workflow"]).toBe("old");
    await expect(prepareResubmit(s, "default", "never", {})).rejects.toThrow(/not found/);
  });
});

describe("archive", () => {
  it("the embedded store deletes one archived run by uid, or every run of a name", async () => {
    const s = await store();
    const done = (uid: string, finishedAt: string) => s.put(wf("w", "Succeeded", { uid }, finishedAt));
    await done("u1", "2030-01-01T00:00:00Z");
    await done("u2", "2030-01-01T00:01:00Z");
    await done("u3", "2030-01-01T00:02:00Z");
    expect(await s.archiveDelete!("default", "w", "u3")).toBe(1);
    expect((await s.archiveGet("default", "w"))?.metadata.uid).toBe("u2");
    expect(await s.archiveDelete!("default", "w", "u3")).toBe(0);
    expect(await s.archiveDelete!("default", "w")).toBe(2);
    expect(await s.archiveList()).toEqual([]);
    // The live workflow stays.
    expect((await s.get("default", "w"))?.metadata.uid).toBe("u3");
  });
});

function helpOf(program: Command, path: string[]): string {
  let cmd = program;
  for (const p of path) cmd = cmd.commands.find((c) => c.name() === p)!;
  let out = "";
  cmd.configureOutput({ writeOut: (s) => (out += s) });
  cmd.outputHelp();
  return out;
}

describe("help and completion", () => {
  const program = buildProgram(() => undefined);

  it("every new command has --help with examples", () => {
    for (const path of [
      ["submit"],
      ["watch"],
      ["retry"],
      ["resubmit"],
      ["archive", "list"],
      ["archive", "get"],
      ["archive", "delete"],
      ["completion"],
      ["list"],
      ["delete"],
    ])
      expect(helpOf(program, path), path.join(" ")).toMatch(/Examples:\n {2}(source|skiff) /);
    expect(helpOf(program, [])).not.toContain("__continue");
  });

  it("describes commands, flags and what they take", () => {
    const cmds = describeCommands(program);
    const of = (p: string) => cmds.find((c) => c.path.join(" ") === p)!;
    expect(of("retry")).toMatchObject({ operands: "workflows" });
    expect(of("retry").flags).toEqual(
      expect.arrayContaining(["--restart-successful", "--node-field-selector", "-p"]),
    );
    expect(of("submit").operands).toBe("files");
    expect(of("archive get").operands).toBe("archived");
    expect(of("archive").subcommands).toEqual(["list", "get", "delete"]);
    expect(of("list").operands).toBe("none");
    expect(cmds.some((c) => c.path[0] === "__continue")).toBe(false);
  });

  it("the bash script completes commands, flags and names (run by bash)", () => {
    const script = bashCompletion(describeCommands(program));
    const probe = (words: string[]) => {
      const r = spawnSync(
        "bash",
        [
          "-c",
          `${script}\nskiff() { printf 'wf-one\\nwf-two\\n'; }\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _skiff; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: "utf8" },
      );
      expect(r.stderr).toBe("");
      return r.stdout.split("\n").filter(Boolean);
    };
    expect(probe(["skiff", "res"])).toEqual(["resume", "resubmit"]);
    expect(probe(["skiff", "retry", ""])).toEqual(["wf-one", "wf-two"]);
    expect(probe(["skiff", "retry", "--rest"])).toEqual(["--restart-successful"]);
    expect(probe(["skiff", "archive", ""])).toEqual(["list", "get", "delete"]);
    expect(probe(["skiff", "archive", "get", "wf-t"])).toEqual(["wf-two"]);
  });

  it("zsh and fish scripts", () => {
    const cmds = describeCommands(program);
    const zsh = zshCompletion(cmds);
    expect(zsh).toMatch(/^#compdef skiff\n/);
    expect(zsh).toContain("'retry:Retry a Failed or Error workflow\\: failed steps run again");
    expect(zsh).toContain('compadd -- ${(f)"$(skiff list -o name 2>/dev/null)"}');
    const fish = fishCompletion(cmds);
    expect(fish).toContain("complete -c skiff -n '__fish_seen_subcommand_from retry' -l restart-successful");
    expect(fish).toContain(
      "complete -c skiff -n '__fish_seen_subcommand_from watch' -a '(skiff list -o name 2>/dev/null)'",
    );
  });
});
