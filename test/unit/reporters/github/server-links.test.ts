// Links from GitHub check runs to the workflow's page in the web UI of `skiff server` (`server-url`).
import { describe, expect, it } from "vitest";
import { FakeClock } from "../../../../runtime/testing/fake-clock.js";
import { renderJobSummary } from "../../../../src/reporters/job-summary/summary.js";
import { parseServerUrl } from "../../../../src/action/inputs.js";
import { workflowUiUrl } from "../../../../src/reporters/links.js";
import { CI_TEXT, compilePipeline, reporterOnMemory, WorkflowSim } from "./sim.js";

describe("links to the web UI", () => {
  it("gives each check run the UI page of its workflow, and of its node for a step", async () => {
    const { clock, github, reporter } = reporterOnMemory({ serverUrl: "https://skiff.example.com/" });
    const compiled = compilePipeline(CI_TEXT);
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "ci"), clock);
    sim.start();
    sim.node("lint", { phase: "Running" });
    sim.node("lint", { phase: "Succeeded" });
    const wf = sim.finish("Succeeded");
    await reporter.flush();
    const ns = wf.metadata.namespace ?? "default";
    expect(github.byName("ci")?.details_url).toBe(
      `https://skiff.example.com/workflows/${ns}/${wf.metadata.name}`,
    );
    const lint = github.byName("ci / lint")?.details_url ?? "";
    const nodeId = new URL(lint).searchParams.get("nodeId") ?? "";
    expect(lint).toBe(`https://skiff.example.com/workflows/${ns}/${wf.metadata.name}?nodeId=${nodeId}`);
    expect(Object.keys(wf.status?.nodes ?? {})).toContain(nodeId);
  });

  it("sets no details_url without a server URL", async () => {
    const { clock, github, reporter } = reporterOnMemory({});
    const compiled = compilePipeline(CI_TEXT);
    const sim = new WorkflowSim(compiled, reporter.listener(compiled, "ci"), clock);
    sim.start();
    sim.finish("Succeeded");
    await reporter.flush();
    expect(github.byName("ci")?.details_url).toBeUndefined();
  });

  it("links each step of the job summary to its node in the UI", () => {
    const clock = new FakeClock({ start: Date.UTC(2026, 0, 1) });
    const compiled = compilePipeline(CI_TEXT);
    const sim = new WorkflowSim(compiled, () => {}, clock);
    sim.start();
    sim.node("lint", { phase: "Succeeded" });
    const wf = sim.finish("Succeeded");
    const lint = Object.values(wf.status?.nodes ?? {}).find((n) => n.displayName === "lint")!;
    const base = `http://localhost:2746/workflows/${wf.metadata.namespace ?? "default"}/${wf.metadata.name}`;
    const linked = renderJobSummary([{ pipeline: "ci", workflow: wf }], {
      secrets: [],
      now: clock.now(),
      serverUrl: "http://localhost:2746",
    });
    expect(linked).toContain(`| [lint](${base}?nodeId=${lint.id}) |`);
    const plain = renderJobSummary([{ pipeline: "ci", workflow: wf }], { secrets: [], now: clock.now() });
    expect(plain).toContain("| lint |");
    expect(plain).not.toContain("nodeId=");
  });

  it("builds the UI's URL with the namespace, the name and the node id escaped", () => {
    const wf = { metadata: { name: "ci-x", namespace: "team a" } };
    expect(workflowUiUrl("http://localhost:2746", wf, "ci-x-1")).toBe(
      "http://localhost:2746/workflows/team%20a/ci-x?nodeId=ci-x-1",
    );
    expect(workflowUiUrl("http://localhost:2746", { metadata: { name: "w" } })).toBe(
      "http://localhost:2746/workflows/default/w",
    );
    expect(workflowUiUrl(undefined, wf)).toBeUndefined();
  });

  it("checks the server-url input: an http(s) URL or nothing", () => {
    expect(parseServerUrl("")).toBeUndefined();
    expect(parseServerUrl(" https://skiff.example.com/ ")).toBe("https://skiff.example.com");
    expect(() => parseServerUrl("skiff.example.com")).toThrow(/server-url must be an http\(s\) URL/);
    expect(() => parseServerUrl("ftp://x")).toThrow(expect.objectContaining({ code: "SKF-GH-004" }));
  });
});
