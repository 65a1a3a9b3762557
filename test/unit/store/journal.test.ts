import { describe, expect, it } from "vitest";
import type { NodeStatus, Workflow } from "../../../runtime/spec/types.js";
import { isDeltaRecord, replayJournal, WorkflowModel } from "../../../runtime/store/journal.js";

const TOKEN = "@rv-token@";

function workflow(nodes: Record<string, NodeStatus> = {}): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "wf", namespace: "default", uid: "u1", resourceVersion: TOKEN },
    spec: { entrypoint: "main", templates: [{ name: "main", container: { image: "alpine" } }] },
    status: { phase: "Running", nodes },
  };
}

function node(id: string, extra: Partial<NodeStatus> = {}): NodeStatus {
  return { id, name: id, displayName: id, type: "Pod", phase: "Pending", ...extra };
}

/** What a reader sees, with the version the writer stamped. */
function expectedOf(wf: Workflow, rv: number): Workflow {
  const copy = structuredClone(wf);
  copy.metadata.resourceVersion = String(rv);
  return copy;
}

describe("workflow journal records", () => {
  it("replays snapshots and deltas (new, edited, removed nodes, growing children, spec) to the last put", () => {
    const wf = workflow({ root: node("root", { type: "DAG", phase: "Running" }) });
    const model = new WorkflowModel("u1", TOKEN);
    model.apply(wf, undefined);
    let text = "";
    let rv = 0;
    let failedOnce = false;
    for (let p = 0; p < 200; p++) {
      const changed: string[] = ["root"];
      const id = `n${p}`;
      wf.status!.nodes![id] = node(id);
      wf.status!.nodes!.root!.children = [...(wf.status!.nodes!.root!.children ?? []), id];
      changed.push(id);
      if (p > 3) {
        const done = wf.status!.nodes![`n${p - 3}`];
        if (done) {
          done.phase = "Succeeded";
          done.outputs = { parameters: [{ name: "o", value: String(p) }] };
          changed.push(done.id);
        }
      }
      if (p % 13 === 6) {
        delete wf.status!.nodes![`n${p - 5}`];
        wf.status!.nodes!.root!.children = wf.status!.nodes!.root!.children!.filter((c) => c !== `n${p - 5}`);
        changed.push(`n${p - 5}`);
      }
      if (p % 17 === 0) wf.spec.arguments = { parameters: [{ name: "p", value: String(p) }] };
      wf.status!.progress = `${p}/200`;
      model.apply(structuredClone(wf), changed);
      const write = model.takeWrite(String(rv + 1));
      if (p % 29 === 28) {
        // A failed write: its record never reaches the file; the next write must carry its changes.
        write.undo();
        failedOnce = true;
        continue;
      }
      text += write.record + "\n";
      rv++;
      model.journal = { fp: String(rv), rv, snapshotBytes: 1, deltaBytes: 0 };
      expect(replayJournal(text)).toEqual(expectedOf(wf, rv));
    }
    expect(failedOnce).toBe(true);
    const records = text.trimEnd().split("\n");
    // The first write and those after a failure are snapshots; the rest are deltas.
    expect(records.filter((r) => !isDeltaRecord(r)).length).toBe(1 + 6);
    expect(records.filter(isDeltaRecord).length).toBe(records.length - 7);
  });

  it("writes only the children a parent gained, not its whole list", () => {
    const children = Array.from({ length: 5000 }, (_, i) => `child-${i}`);
    const wf = workflow({ root: node("root", { type: "DAG", phase: "Running", children }) });
    const model = new WorkflowModel("u1", TOKEN);
    model.apply(wf, undefined);
    model.takeWrite("1");
    model.journal = { fp: "1", rv: 1, snapshotBytes: 1, deltaBytes: 0 };
    wf.status!.nodes!.root!.children = [...children, "child-new"];
    wf.status!.nodes!["child-new"] = node("child-new");
    model.apply(wf, ["root", "child-new"]);
    const write = model.takeWrite("2");
    expect(write.kind).toBe("delta");
    expect(write.record.length).toBeLessThan(800);
    expect(write.record).toContain('"children":{"root":["child-new"]}');
  });

  it("writes a whole parent again when its children were reordered or removed", () => {
    const wf = workflow({ root: node("root", { type: "DAG", children: ["a", "b"] }) });
    const model = new WorkflowModel("u1", TOKEN);
    model.apply(wf, undefined);
    const first = model.takeWrite("1");
    model.journal = { fp: "1", rv: 1, snapshotBytes: 1, deltaBytes: 0 };
    wf.status!.nodes!.root!.children = ["b", "a", "c"];
    model.apply(wf, ["root"]);
    const second = model.takeWrite("2");
    expect(second.record).not.toContain('"children":{');
    expect(replayJournal(`${first.record}\n${second.record}\n`)?.status?.nodes?.root?.children).toEqual([
      "b",
      "a",
      "c",
    ]);
  });

  it("ignores a torn last record, stops at a torn delta, and starts from the newest readable snapshot", () => {
    const model = new WorkflowModel("u1", TOKEN);
    const wf = workflow({ a: node("a") });
    model.apply(wf, undefined);
    const snap = model.takeWrite("1").record;
    model.journal = { fp: "1", rv: 1, snapshotBytes: 1, deltaBytes: 0 };
    wf.status!.nodes!.a!.phase = "Running";
    model.apply(wf, ["a"]);
    const delta = model.takeWrite("2").record;
    const running = replayJournal(`${snap}\n${delta}\n`);
    expect(running?.status?.nodes?.a?.phase).toBe("Running");
    // Cut short, no newline yet (a reader racing the append, or a crash).
    expect(replayJournal(`${snap}\n${delta}\n${delta.slice(0, 40)}`)).toEqual(running);
    // A torn delta sealed by a later newline: nothing after it is applied.
    expect(replayJournal(`${snap}\n${delta.slice(0, 40)}\n${delta}\n`)?.status?.nodes?.a?.phase).toBe(
      "Pending",
    );
    // A torn snapshot followed by a whole one (format 1 journals): the whole one counts.
    const plain = JSON.stringify(expectedOf(wf, 3));
    expect(replayJournal(`${snap.slice(0, 30)}\n${plain}\n`)).toEqual(expectedOf(wf, 3));
    expect(replayJournal(`${snap.slice(0, 30)}`)).toBeUndefined();
  });
});
