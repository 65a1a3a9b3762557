import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalRepository } from "../../../runtime/artifacts/repository.js";
import { startWorkflow } from "../../../runtime/controller/index.js";
import { SystemClock } from "../../../runtime/interfaces/clock.js";
import { compile, Library, loadPaths } from "../../../runtime/spec/index.js";
import { CORPUS, CORPUS_PRESENT, expectedRuns, SKIP_MESSAGE } from "../../conformance/corpus.js";
import { createDockerExecutor, LABELS } from "../../../runtime/executors/docker/index.js";
import { BUSYBOX, DOCKER_AVAILABLE, leftovers } from "./helpers.js";

/**
 * Argo's examples whose images have local stand-ins (busybox, alpine, argosay, python, and node-based doubles of nginx and InfluxDB): they run on the Docker
 * executor through the controller and must end as EXPECTED.tsv says.
 */
const EXAMPLES = [
  "hello-world.yaml",
  "steps.yaml",
  "dag-diamond.yaml",
  "dag-diamond-steps.yaml",
  "artifact-passing.yaml",
  "init-container.yaml",
  "volumes-emptydir.yaml",
  "exit-code-output-variable.yaml",
  "output-parameter.yaml",
  "loops.yaml",
  "container-set-template/sequence-workflow.yaml",
  "container-set-template/parallel-workflow.yaml",
  "container-set-template/workspace-workflow.yaml",
  "global-parameters.yaml",
  "retry-container.yaml",
  "container-set-template/outputs-result-workflow.yaml",
  "scripts-python.yaml",
  "coinflip.yaml",
  "parameter-aggregation.yaml",
  "dag-continue-on-fail.yaml",
  "exit-handlers.yaml",
  "conditional-artifacts.yaml",
  "sidecar.yaml",
  "sidecar-nginx.yaml",
  "daemon-step.yaml",
  "daemon-nginx.yaml",
  "arguments-parameters.yaml",
];

const TOOLS = "skiff-test/tools:latest";

const IMAGE_MAP = {
  "argoproj/argosay": "skiff-test/argosay:latest",
  "docker/whalesay": "skiff-test/argosay:latest",
  busybox: BUSYBOX,
  alpine: TOOLS,
  "curlimages/curl": TOOLS,
  nginx: TOOLS,
  influxdb: TOOLS,
  python: "skiff-test/python:latest",
};

/** The stand-ins' entrypoints, as Argo's controller `images:` setting gives them. */
const IMAGES = {
  nginx: { entrypoint: ["nginx", "-g", "daemon off;"] },
  influxdb: { entrypoint: ["influxd"] },
};

if (!CORPUS_PRESENT) console.warn(SKIP_MESSAGE);

describe.skipIf(!DOCKER_AVAILABLE || !CORPUS_PRESENT)("Argo's examples on the Docker executor", () => {
  const dir = mkdtempSync(join(tmpdir(), "skiff-docker-examples-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const rows = CORPUS_PRESENT ? new Map(expectedRuns().map((r) => [r.file, r])) : new Map();

  it.each(EXAMPLES)(
    "%s ends as in Argo",
    async (file) => {
      const row = rows.get(file);
      expect(row, `${file} is not in EXPECTED.tsv`).toBeDefined();
      const loaded = await loadPaths([join(CORPUS, file)]);
      const library = Library.from(loaded.manifests);
      const manifest = loaded.manifests.find((m) => m.object.kind === "Workflow")!;
      const compiled = compile(manifest, library);
      const executor = createDockerExecutor({
        imageMap: IMAGE_MAP,
        images: IMAGES,
        workDir: join(dir, "work"),
        killGracePeriodMs: 2000,
      });
      try {
        const running = startWorkflow(compiled, {
          executor,
          clock: new SystemClock(),
          artifactRepository: createLocalRepository(join(dir, "artifacts")),
          workspace: dir,
        });
        const wf = await running.done;
        const failures = Object.values(wf.status?.nodes ?? {})
          .filter((n) => n.phase !== "Succeeded" && n.message)
          .map((n) => `${n.displayName}: ${n.message}`);
        expect(
          row!.phases,
          `${wf.status?.phase}: ${wf.status?.message ?? ""} ${failures.join("; ")}`,
        ).toContain(wf.status?.phase);
      } finally {
        await executor.cleanup();
      }
      expect(await leftovers(`${LABELS.executor}=${executor.instanceId}`)).toEqual({
        containers: [],
        volumes: [],
      });
    },
    120_000,
  );
});
