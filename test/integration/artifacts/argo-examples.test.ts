import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkArtifactRepository,
  type ArtifactRepositoryConfig,
} from "../../../runtime/artifacts/default-repository.js";
import { createLocalDriver } from "../../../runtime/artifacts/local/index.js";
import { createS3Driver } from "../../../runtime/artifacts/s3/index.js";
import { compile, Library, loadPaths, type LoadedManifest } from "../../../runtime/spec/index.js";
import type { Artifact, Workflow } from "../../../runtime/spec/types.js";
import { loadConfig, type SkiffConfig } from "../../../src/config/index.js";
import { runCompiledWorkflow } from "../../../src/run/engine.js";
import {
  CORPUS,
  CORPUS_PRESENT,
  expectedRuns,
  SKIP_MESSAGE,
  type ExpectedRow,
} from "../../conformance/corpus.js";
import { KNOWN_MISMATCHES } from "../../conformance/known-mismatches.js";
import { scratch, secret } from "./helpers.js";

/**
 * Every example of Argo's corpus that uses artifacts (`artifacts:` in its YAML) and has an outcome in
 * EXPECTED.tsv runs with the host executor twice: against the embedded local repository and against an S3
 * default repository served by s3rver. Each must end as EXPECTED.tsv says, and every artifact its nodes
 * output must be stored where the repository says, readable back. The examples EXPECTED.tsv does not assert
 * (Argo's own test skips them) are listed with their reason in docs/conformance.md.
 */

const here = dirname(fileURLToPath(import.meta.url));
const IMAGES = resolve(here, "../../fixtures/images/host-images.yaml");

const BUCKET = "argo-artifacts";
/** The bucket of the `my-key` repository of artifact-repository-ref.yaml's ConfigMap. */
const REF_BUCKET = "argo-ref";
/** A key format other than Argo's default, so that the config's `keyFormat` is seen to apply. */
/** The Secret the `my-key` repository's credentials name (s3rver's only key pair). */
const REF_SECRET = secret("my-s3-cred", { accesskey: "S3RVER", secretkey: "S3RVER" });
const KEY_FORMAT = "skiff/{{workflow.creationTimestamp.Y}}/{{workflow.name}}/{{pod.name}}";

function artifactExamples(): ExpectedRow[] {
  return expectedRuns().filter((r) => /^\s*artifacts:/m.test(readFileSync(join(CORPUS, r.file), "utf8")));
}

if (!CORPUS_PRESENT) console.warn(SKIP_MESSAGE);

interface Outcome {
  workflows: Workflow[];
  error?: string;
}

/** Output artifacts of every node, with the node they came from. */
function outputArtifacts(wf: Workflow): { node: string; artifact: Artifact }[] {
  return Object.values(wf.status?.nodes ?? {}).flatMap((n) =>
    n.type === "Pod"
      ? (n.outputs?.artifacts ?? []).map((artifact) => ({ node: n.displayName ?? n.name, artifact }))
      : [],
  );
}

describe.skipIf(!CORPUS_PRESENT)("Argo's artifact examples against the local and S3 repositories", () => {
  const rows = CORPUS_PRESENT ? artifactExamples() : [];
  let work: { dir: string; cleanup: () => Promise<void> };
  let server: S3rver;
  let endpoint = "";
  let manifests: LoadedManifest[] = [];
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, key: process.env.AWS_SECRET_ACCESS_KEY };

  beforeAll(async () => {
    work = await scratch("artifact-examples");
    server = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: join(work.dir, "s3"),
      serviceEndpoint: "localhost",
      configureBuckets: [
        { name: BUCKET, configs: [] },
        { name: REF_BUCKET, configs: [] },
      ],
    });
    endpoint = `127.0.0.1:${(await server.run()).port}`;
    // The config's S3 repository names no Secret: its credentials come from the environment.
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    manifests = (await loadPaths([CORPUS])).manifests;
  });

  afterAll(async () => {
    if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
    else process.env.AWS_ACCESS_KEY_ID = saved.id;
    if (saved.key === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
    else process.env.AWS_SECRET_ACCESS_KEY = saved.key;
    await server?.close();
    await work?.cleanup();
  });

  /**
   * The `artifact-repositories` ConfigMap artifact-repository-ref.yaml's `artifactRepositoryRef: {key: my-key}`
   * reads, as Argo's quick-start installs it (but pointing at s3rver), with the Secret its credentials name.
   */
  async function refManifests(): Promise<LoadedManifest[]> {
    const dir = join(work.dir, "ref");
    mkdirSync(dir, { recursive: true });
    const repo = [
      `s3:`,
      `  bucket: ${REF_BUCKET}`,
      `  endpoint: ${endpoint}`,
      `  insecure: true`,
      `  keyFormat: "ref/{{workflow.name}}/{{pod.name}}"`,
      `  accessKeySecret: {name: my-s3-cred, key: accesskey}`,
      `  secretKeySecret: {name: my-s3-cred, key: secretkey}`,
    ];
    const cm = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "artifact-repositories" },
      data: { "my-key": repo.join("\n") + "\n" },
    };
    writeFileSync(
      join(dir, "repositories.yaml"),
      [cm, REF_SECRET].map((m) => JSON.stringify(m)).join("\n---\n"),
    );
    return (await loadPaths([dir])).manifests;
  }

  async function runExamples(kind: "local" | "s3"): Promise<Map<string, Outcome>> {
    const stateDir = join(work.dir, kind);
    const config: SkiffConfig = await loadConfig(IMAGES);
    config.stateDir = stateDir;
    const repository: unknown =
      kind === "local"
        ? { local: { path: join(stateDir, "repo") } }
        : { s3: { bucket: BUCKET, endpoint, insecure: true, keyFormat: KEY_FORMAT } };
    const { value, issues } = checkArtifactRepository(repository);
    expect(issues).toEqual([]);
    config.artifactRepository = value as ArtifactRepositoryConfig;
    const extra = kind === "s3" ? await refManifests() : [];
    const outcomes = new Map<string, Outcome>();
    const runOne = async (row: ExpectedRow): Promise<Outcome> => {
      const own = manifests.filter((m) => m.file === join(CORPUS, row.file) && m.object.kind === "Workflow");
      const withRef = row.file === "artifact-repository-ref.yaml" ? extra : [];
      const library = Library.from([...manifests, ...withRef]);
      const workflows: Workflow[] = [];
      try {
        for (const m of own) {
          const compiled = compile(m, library, { workflowDefaults: config.workflowDefaults });
          const workspace = join(stateDir, "workspace", row.file);
          mkdirSync(workspace, { recursive: true });
          workflows.push(
            await runCompiledWorkflow(compiled, config, { workspace, signal: AbortSignal.timeout(120_000) }),
          );
        }
        return { workflows };
      } catch (e) {
        return { workflows, error: `${(e as { code?: string }).code ?? ""} ${(e as Error).message}` };
      }
    };
    // Two at a time: the machine is shared.
    let next = 0;
    const worker = async () => {
      while (next < rows.length) {
        const row = rows[next++]!;
        outcomes.set(row.file, await runOne(row));
      }
    };
    await Promise.all([worker(), worker()]);
    return outcomes;
  }

  for (const kind of ["local", "s3"] as const) {
    describe(`${kind} repository`, () => {
      let outcomes = new Map<string, Outcome>();
      beforeAll(async () => {
        outcomes = await runExamples(kind);
      }, 600_000);

      it("covers the corpus's artifact examples", () => {
        expect(rows.length).toBeGreaterThanOrEqual(15);
      });

      for (const row of rows) {
        const known = KNOWN_MISMATCHES[row.file];
        it(`${row.file} ends ${row.phases.join(" or ")}${known ? " (known mismatch)" : ""}`, async () => {
          const o = outcomes.get(row.file);
          expect(o, "not run").toBeDefined();
          const phases = o!.workflows.map((w) => w.status?.phase);
          const matched =
            !o!.error && phases.length > 0 && phases.every((p) => row.phases.includes(p as never));
          if (known) {
            expect(
              matched,
              `${row.file} now matches: update known-mismatches.ts and docs/conformance.md`,
            ).toBe(false);
            return;
          }
          const detail = `${o!.error ?? ""} ${o!.workflows.map((w) => `${w.status?.phase}: ${w.status?.message ?? ""}`).join("; ")}`;
          expect(matched, detail).toBe(true);
          for (const wf of o!.workflows) await expectStored(kind, row.file, wf);
        });
      }
    });
  }

  /**
   * Each output artifact of a Pod node is located in the repository the run used, and is there; unless
   * artifact GC deleted it (`deleted: true`), and then it is gone.
   */
  async function expectStored(kind: "local" | "s3", file: string, wf: Workflow): Promise<void> {
    const s3 = createS3Driver({
      env: { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" },
      secrets: (name) => (name === REF_SECRET.metadata.name ? REF_SECRET : undefined),
    });
    const local = createLocalDriver({ root: join(work.dir, kind, "repo") });
    // The embedded store: the configured folder in the local run, <stateDir>/artifacts beside S3.
    const plugins = kind === "local" ? local : createLocalDriver({ root: join(work.dir, kind, "artifacts") });
    if (file === "artifact-gc-workflow.yaml")
      expect(outputArtifacts(wf).map(({ artifact }) => [artifact.name, artifact.deleted === true])).toEqual([
        ["on-completion", true],
        ["on-deletion", false],
      ]);
    for (const { node, artifact } of outputArtifacts(wf)) {
      const where = `${file} ${node} ${artifact.name}`;
      const kept = artifact.deleted !== true;
      if (artifact.plugin) {
        // artifactDrivers' `test` plugin is served by the embedded store, whatever the default repository.
        expect(
          await plugins.exists({
            ...artifact,
            plugin: undefined,
            local: { key: String(artifact.plugin.key) },
          }),
          where,
        ).toBe(true);
        continue;
      }
      if (kind === "local") {
        expect(Object.keys(artifact.local ?? {}), where).toEqual(["key"]);
        expect(await local.exists(artifact), where).toBe(kept);
        continue;
      }
      const block = artifact.s3 as Record<string, unknown> | undefined;
      expect(block, `${where} is not in S3: ${JSON.stringify(artifact)}`).toBeDefined();
      expect(artifact.local, where).toBeUndefined();
      if (file === "artifact-repository-ref.yaml") {
        expect(block).toMatchObject({
          bucket: REF_BUCKET,
          key: expect.stringMatching(/^ref\/artifact-repository-ref-/),
        });
        // The artifact names the Secret, never its values.
        expect(JSON.stringify(artifact)).not.toContain("S3RVER");
      } else {
        expect(block!.bucket, where).toBe(BUCKET);
      }
      if (file === "artifact-passing.yaml")
        expect(block!.key, where).toMatch(
          /^skiff\/\d{4}\/artifact-passing-[^/]+\/artifact-passing-[^/]+\/hello-art\.tgz$/,
        );
      expect(
        await s3.exists(artifact),
        `${where} at s3://${String(block!.bucket)}/${String(block!.key)}`,
      ).toBe(kept);
    }
    s3.destroy();
  }

  it.skipIf(!CORPUS_PRESENT)("left no artifact of the S3 run in the local store", () => {
    // Only the artifact plugin's files are local in the S3 run.
    const root = join(work.dir, "s3", "artifacts");
    if (!existsSync(root)) return;
    const files = readdirDeep(root);
    expect(
      files.every((f) => f.endsWith("/hi") || f === "hi"),
      files.join(", "),
    ).toBe(true);
  });
});

function readdirDeep(dir: string, prefix = ""): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? readdirDeep(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
  );
}
