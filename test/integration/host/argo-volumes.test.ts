import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Executor } from "../../../runtime/interfaces/executor.js";
import { compile, Library, parseManifests } from "../../../runtime/spec/index.js";
import type { K8sObject, Workflow } from "../../../runtime/spec/types.js";
import { loadConfig } from "../../../src/config/index.js";
import { runCompiledWorkflow } from "../../../src/run/engine.js";
import { BWRAP_AVAILABLE } from "./helpers.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const CORPUS = path.resolve(ROOT, "../shared/conformance/argo-examples");
const HAVE_CORPUS = existsSync(CORPUS);
if (!HAVE_CORPUS) console.warn(`${CORPUS} is absent: Argo's volume examples are skipped`);

/**
 * Fills `StepRequest.volumes` as its TSDoc says the controller does (workflow volumes, one claim per
 * volumeClaimTemplate, then the template's volumes), so the executor's side is tested on its own.
 */
function withVolumes(wf: Workflow, logs: string[]) {
  return (inner: Executor): Executor => ({
    name: inner.name,
    capabilities: inner.capabilities,
    start: (step) => {
      const claims = ((wf.spec.volumeClaimTemplates ?? []) as K8sObject[]).map((t) => {
        const name = String((t.metadata as K8sObject).name);
        return { name, persistentVolumeClaim: { claimName: `${step.workflowName}-${name}` } };
      });
      const volumes = [...((wf.spec.volumes ?? []) as K8sObject[]), ...claims];
      volumes.push(...((step.template.volumes ?? []) as K8sObject[]));
      // The controller does not yet substitute globals in the locations a template's own inputs declare
      // (map-reduce's `s3: {key: "{{workflow.name}}/results"}`); done here in its place.
      const inputArtifacts = step.inputArtifacts.map((a) =>
        a.s3?.key?.includes("{{workflow.name}}")
          ? { ...a, s3: { ...a.s3, key: a.s3.key.replaceAll("{{workflow.name}}", step.workflowName) } }
          : a,
      );
      const started = inner.start({ ...step, volumes, inputArtifacts });
      void started.then(async (h) => {
        for await (const l of inner.logs(h)) logs.push(`${step.nodeName}: ${l.text}`);
      });
      return started;
    },
    ready: (h) => inner.ready(h),
    wait: (h) => inner.wait(h),
    logs: (h) => inner.logs(h),
    kill: (h, reason) => inner.kill(h, reason),
    cleanup: () => inner.cleanup(),
  });
}

describe.skipIf(!HAVE_CORPUS || !BWRAP_AVAILABLE)(
  "Argo's volume and artifact examples on the host executor",
  () => {
    const state = mkdtempSync(path.join(tmpdir(), "skiff-argo-volumes-"));
    afterAll(() => rmSync(state, { recursive: true, force: true }));

    async function run(file: string) {
      const text = readFileSync(path.join(CORPUS, file), "utf8");
      const loaded = parseManifests(text, file);
      const compiled = compile(loaded.manifests[0]!, Library.from(loaded.manifests), {});
      const config = await loadConfig(path.join(ROOT, "test/fixtures/images/host-images.yaml"));
      config.stateDir = state;
      config.host.sandbox = "bwrap";
      const logs: string[] = [];
      const wf = await runCompiledWorkflow(compiled, config, {
        workspace: state,
        wrapExecutor: withVolumes(compiled.workflow, logs),
      });
      return { wf, logs: logs.join("\n") };
    }

    it.each(["volumes-pvc.yaml", "volumes-emptydir.yaml"])("%s succeeds", async (file) => {
      const { wf, logs } = await run(file);
      expect(wf.status?.phase, logs).toBe("Succeeded");
    });

    it("volumes-existing.yaml succeeds, and the claim keeps its log across runs", async () => {
      for (let i = 0; i < 2; i++) {
        const { wf, logs } = await run("volumes-existing.yaml");
        expect(wf.status?.phase, logs).toBe("Succeeded");
      }
      const log = readFileSync(path.join(state, "volumes", "my-existing-volume", "accesslog"), "utf8");
      expect(log.match(/^accessed at: /gm)).toHaveLength(2);
    });

    it("map-reduce.yaml succeeds: a folder saved under a key ending in '/', read back file by file", async () => {
      const { wf, logs } = await run("map-reduce.yaml");
      expect(wf.status?.phase, logs).toBe("Succeeded");
      const reduce = Object.values(wf.status?.nodes ?? {}).find((n) => n.displayName === "reduce");
      const total = reduce?.outputs?.artifacts?.find((a) => a.name === "total");
      const key = total?.local?.key;
      expect(key).toBe(`${wf.metadata.name}/total.json`);
      // Parts {"foo": 1..4} doubled by map and summed by reduce.
      expect(JSON.parse(readFileSync(path.join(state, "artifacts", key!), "utf8"))).toEqual({ total: 20 });
    });
  },
);
