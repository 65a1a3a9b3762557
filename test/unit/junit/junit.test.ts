import { describe, expect, it } from "vitest";
import { SkiffError } from "../../../runtime/errors/index.js";
import { RunCollector, renderJUnit } from "../../../src/reporters/junit/index.js";
import { expectGolden } from "../../helpers/golden.js";
import { HAS_XMLLINT, schemaErrors } from "../../helpers/junit/schema.js";
import { failingRun, SECRET, WORKSPACE } from "../../helpers/junit/run-events.js";

function report(): string {
  const collector = new RunCollector({ workspace: WORKSPACE, secrets: [SECRET] });
  for (const e of failingRun()) collector.onEvent(e);
  collector.onEvent({
    type: "rejected",
    stage: "compile",
    pipeline: "broken",
    index: 1,
    error: new SkiffError("SKF-SPEC-001", "spec.templates[0].name is required", {
      position: { file: `${WORKSPACE}/.skiff/broken.yaml`, line: 7 },
    }),
  });
  return renderJUnit(collector.records, { secrets: [SECRET], hostname: "ci-host", workspace: WORKSPACE });
}

describe("JUnit report", () => {
  it("has one testsuite per workflow and one testcase per step (golden)", () => {
    expectGolden("junit/failing-run.xml", report());
  });

  it("puts the failing line its log named on the failed step, the template's line on the others", () => {
    const xml = report();
    expect(xml).toMatch(/<testcase name="test" classname="ci" time="31.000" file="src\/app.ts" line="12">/);
    expect(xml).toMatch(/<testcase name="lint" classname="ci" time="7.000" file=".skiff\/ci.yaml" line="5">/);
    expect(xml).toMatch(
      /<failure message="Error \(exit code 1\)" type="Failed">src\/app.ts:12:5: expected 2/,
    );
    expect(xml).toMatch(/<skipped message="omitted: depends condition not met"\/>/);
    expect(xml).toMatch(
      /<error message="SKF-SPEC-001 spec.templates\[0\].name is required" type="SKF-SPEC-001">/,
    );
    expect(xml).toMatch(
      /<testcase name="rejected" classname="broken" time="0.000" file=".skiff\/broken.yaml" line="7">/,
    );
  });

  it("masks secrets and drops what XML cannot hold", () => {
    const xml = report();
    expect(xml).not.toContain(SECRET);
    expect(xml).toContain("running 3 tests with token ***");
    expect(xml).not.toContain("\u001b");
    expect(xml).toContain("&lt;a &amp; b&gt;");
  });

  it.skipIf(!HAS_XMLLINT)("validates against the Jenkins/Ant JUnit schema", () => {
    expect(schemaErrors(report())).toBe("");
    expect(schemaErrors(renderJUnit([]))).toBe("");
  });

  it("opens each testcase's system-out with its node in the web UI when a server URL is set", () => {
    const collector = new RunCollector({ workspace: WORKSPACE, secrets: [SECRET] });
    for (const e of failingRun()) collector.onEvent(e);
    const xml = renderJUnit(collector.records, { workspace: WORKSPACE, serverUrl: "http://localhost:2746/" });
    const record = collector.records[0] as { workflow: { metadata: { name: string; namespace?: string } } };
    const { name, namespace = "default" } = record.workflow.metadata;
    const urls = [...xml.matchAll(/<system-out>Web UI: (\S+)\n/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls)
      expect(url).toMatch(new RegExp(`^http://localhost:2746/workflows/${namespace}/${name}\\?nodeId=`));
    if (HAS_XMLLINT) expect(schemaErrors(xml)).toBe("");
    expect(report()).not.toContain("Web UI:");
  });

  it.runIf(!HAS_XMLLINT)("is not validated: xmllint (Debian's libxml2-utils) is not installed", () => {
    console.warn("xmllint is not installed: JUnit reports are not validated against the schema");
  });
});
