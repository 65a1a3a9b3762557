import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkArtifactRepository,
  createS3Repository,
  createWorkflowArtifactRepository,
  renderKeyFormat,
  resolveArtifactRepository,
  type ArtifactRepositoryConfig,
} from "../../../runtime/artifacts/default-repository.js";
import type { ArtifactDriver, ArtifactRepository } from "../../../runtime/interfaces/artifacts.js";
import type { Artifact, ConfigMap, Workflow } from "../../../runtime/spec/types.js";
import { loadConfig } from "../../../src/config/index.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "skiff-default-repo-"));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const S3 = {
  bucket: "my-bucket",
  endpoint: "minio:9000",
  insecure: true,
  accessKeySecret: { name: "my-minio-cred", key: "accesskey" },
  secretKeySecret: { name: "my-minio-cred", key: "secretkey" },
};

function workflow(spec: Partial<Workflow["spec"]> = {}, meta: Partial<Workflow["metadata"]> = {}): Workflow {
  return {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Workflow",
    metadata: { name: "wf-abc", namespace: "ci", ...meta },
    spec: { entrypoint: "main", templates: [], ...spec },
  };
}

function configMap(
  data: Record<string, string>,
  defaultKey?: string,
  name = "artifact-repositories",
): ConfigMap {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      ...(defaultKey
        ? { annotations: { "workflows.argoproj.io/default-artifact-repository": defaultKey } }
        : {}),
    },
    data,
  };
}

const maps = (...cms: ConfigMap[]) => new Map(cms.map((c) => [c.metadata.name!, c]));

/** A base repository that records which artifact each driver call received. */
function recordingBase(): { base: ArtifactRepository; calls: [string, Artifact][] } {
  const calls: [string, Artifact][] = [];
  const driver: ArtifactDriver = {
    name: "s3",
    save: (a) => Promise.resolve(void calls.push(["save", a])),
    load: (a) => Promise.resolve(void calls.push(["load", a])),
    exists: (a) => Promise.resolve(calls.push(["exists", a]) > 0),
    delete: (a) => Promise.resolve(void calls.push(["delete", a])),
  };
  return {
    calls,
    base: {
      locate: () => {
        throw new Error("the S3 repository locates artifacts itself");
      },
      driverFor: (a) => {
        calls.push(["driverFor", a]);
        return driver;
      },
    },
  };
}

describe("checkArtifactRepository", () => {
  it("accepts Argo's controller s3 shape and Skiff's local one", () => {
    expect(
      checkArtifactRepository({ archiveLogs: true, s3: { ...S3, keyFormat: "a/{{pod.name}}" } }),
    ).toEqual({
      value: { archiveLogs: true, s3: { ...S3, keyFormat: "a/{{pod.name}}" } },
      issues: [],
    });
    expect(
      checkArtifactRepository({ s3: { bucket: "b", useSDKCreds: true, region: "eu-west-1" } }).issues,
    ).toEqual([]);
    expect(checkArtifactRepository({ local: { path: "/var/artifacts" } }).value).toEqual({
      local: { path: "/var/artifacts" },
    });
  });

  it("reports each problem with the path of its field", () => {
    const { value, issues } = checkArtifactRepository({
      s3: {
        endpoint: 9000,
        insecure: "yes",
        key: "k",
        accessKeySecret: { name: "c" },
        keyFormat: "{{workflow.name}}/{{steps.x.id}}",
      },
    });
    expect(value).toBeUndefined();
    expect(issues.map((i) => i.path.join("."))).toEqual([
      "s3.key",
      "s3.bucket",
      "s3.endpoint",
      "s3.insecure",
      "s3.accessKeySecret",
      "s3.accessKeySecret",
      "s3.keyFormat",
    ]);
    expect(issues.at(-1)?.message).toContain("{{steps.x.id}}");
  });

  it("refuses other repository kinds, two kinds at once, and an empty repository", () => {
    expect(checkArtifactRepository({ gcs: { bucket: "b" } }).issues[0]?.message).toContain("not supported");
    expect(checkArtifactRepository({ s3: S3, local: { path: "/x" } }).issues[0]?.message).toContain(
      "not both",
    );
    expect(checkArtifactRepository({ archiveLogs: true }).issues[0]?.message).toContain("needs");
    expect(checkArtifactRepository("s3").issues).toHaveLength(1);
  });
});

describe("artifactRepository in the config file", () => {
  it("reads an S3 default repository", async () => {
    const file = path.join(dir, "config.yaml");
    await writeFile(
      file,
      [
        "artifactRepository:",
        "  s3:",
        "    bucket: my-bucket",
        "    endpoint: minio:9000",
        "    insecure: true",
        "    keyFormat: 'runs/{{workflow.creationTimestamp.Y}}/{{workflow.name}}/{{pod.name}}'",
        "    accessKeySecret: {name: my-minio-cred, key: accesskey}",
        "    secretKeySecret: {name: my-minio-cred, key: secretkey}",
        "",
      ].join("\n"),
    );
    const config = await loadConfig(file, {});
    expect(config.artifactRepository.s3).toEqual({
      ...S3,
      keyFormat: "runs/{{workflow.creationTimestamp.Y}}/{{workflow.name}}/{{pod.name}}",
    });
  });

  it("resolves a local path against the config file's folder", async () => {
    const file = path.join(dir, "config.yaml");
    await writeFile(file, "artifactRepository:\n  local:\n    path: store\n");
    expect((await loadConfig(file, {})).artifactRepository).toEqual({
      local: { path: path.join(dir, "store") },
    });
  });

  it("points at the line of the wrong field with SKF-CFG-003", async () => {
    const file = path.join(dir, "config.yaml");
    await writeFile(
      file,
      "executor: host\nartifactRepository:\n  s3:\n    bucket: b\n    endpoint: minio:9000\n    insecure: 'yes'\n",
    );
    await expect(loadConfig(file, {})).rejects.toMatchObject({
      code: "SKF-CFG-003",
      message: expect.stringContaining("s3.insecure must be true or false"),
      position: { file, line: 6 },
    });
  });

  it("reports a missing bucket on the line of its block", async () => {
    const file = path.join(dir, "config.yaml");
    await writeFile(file, "artifactRepository:\n  s3:\n    endpoint: minio:9000\n");
    await expect(loadConfig(file, {})).rejects.toMatchObject({
      code: "SKF-CFG-003",
      message: expect.stringContaining("s3.bucket is required"),
      position: { line: 3 },
    });
  });
});

describe("resolveArtifactRepository", () => {
  const configured: ArtifactRepositoryConfig = { local: { path: "/configured" } };
  const repos = configMap(
    {
      "default-v1": "archiveLogs: true\ns3:\n  bucket: default-bucket\n",
      "my-key": "s3:\n  bucket: my-bucket\n  endpoint: minio:9000\n",
    },
    "default-v1",
  );

  it("uses the configured repository when the workflow is given no artifact-repositories ConfigMap", () => {
    expect(resolveArtifactRepository(workflow(), undefined, configured)).toEqual({
      repository: configured,
      source: { kind: "config" },
    });
    // Skiff's config plays the installation's artifact-repositories ConfigMap for a ref naming only a key.
    expect(
      resolveArtifactRepository(workflow({ artifactRepositoryRef: { key: "my-key" } }), maps(), configured)
        .source,
    ).toEqual({ kind: "config" });
  });

  it("reads the ref's key, else the annotated default, of an artifact-repositories ConfigMap", () => {
    expect(
      resolveArtifactRepository(
        workflow({ artifactRepositoryRef: { key: "my-key" } }),
        maps(repos),
        configured,
      ),
    ).toEqual({
      repository: { s3: { bucket: "my-bucket", endpoint: "minio:9000" } },
      source: { kind: "configMap", configMap: "artifact-repositories", key: "my-key" },
    });
    // Without a ref, a namespace's artifact-repositories ConfigMap wins over the controller's default.
    expect(resolveArtifactRepository(workflow(), maps(repos), configured).repository).toEqual({
      archiveLogs: true,
      s3: { bucket: "default-bucket" },
    });
  });

  it("reads a ConfigMap the ref names", () => {
    const other = configMap({ k: "s3:\n  bucket: other\n" }, undefined, "team-repos");
    const wf = workflow({ artifactRepositoryRef: { configMap: "team-repos", key: "k" } });
    expect(resolveArtifactRepository(wf, maps(repos, other), configured).repository).toEqual({
      s3: { bucket: "other" },
    });
  });

  it("fails with SKF-ART-009 for a named ConfigMap, key or default annotation that is missing", () => {
    const named = workflow({ artifactRepositoryRef: { configMap: "team-repos", key: "k" } });
    expect(() => resolveArtifactRepository(named, maps(repos), configured)).toThrow(
      expect.objectContaining({ code: "SKF-ART-009", message: expect.stringContaining('"team-repos"') }),
    );
    const key = workflow({ artifactRepositoryRef: { key: "nope" } });
    expect(() => resolveArtifactRepository(key, maps(repos), configured)).toThrow(
      expect.objectContaining({ code: "SKF-ART-009", message: expect.stringContaining('no key "nope"') }),
    );
    const unannotated = configMap({ "default-v1": "s3:\n  bucket: b\n" });
    expect(() => resolveArtifactRepository(workflow(), maps(unannotated), configured)).toThrow(
      expect.objectContaining({ code: "SKF-ART-009", message: expect.stringContaining("annotation") }),
    );
  });

  it("fails with SKF-ART-010 for a value that is not a repository", () => {
    const bad = configMap({ a: "s3: [\n", b: "s3:\n  endpoint: x\n", c: "local:\n  path: rel\n" });
    for (const [key, text] of [
      ["a", "not valid YAML"],
      ["b", "s3.bucket: s3.bucket is required"],
      ["c", "must be absolute"],
    ] as const) {
      expect(() =>
        resolveArtifactRepository(workflow({ artifactRepositoryRef: { key } }), maps(bad), configured),
      ).toThrow(expect.objectContaining({ code: "SKF-ART-010", message: expect.stringContaining(text) }));
    }
  });
});

describe("renderKeyFormat", () => {
  const wf = workflow(
    { arguments: { parameters: [{ name: "team", value: "infra" }] } },
    {
      uid: "1234",
      creationTimestamp: "2026-03-05T07:08:09Z",
      labels: { app: "web" },
      annotations: { "example.com/owner": "ops" },
    },
  );

  it("resolves the workflow and pod variables Argo allows in an archive location", () => {
    expect(
      renderKeyFormat(
        "{{workflow.namespace}}/{{ workflow.creationTimestamp.Y }}/{{workflow.creationTimestamp.m}}/{{workflow.creationTimestamp.d}}/{{workflow.name}}-{{workflow.uid}}/{{pod.name}}",
        { workflow: wf, podName: "wf-abc-main-1" },
      ),
    ).toBe("ci/2026/03/05/wf-abc-1234/wf-abc-main-1");
    expect(
      renderKeyFormat(
        "{{workflow.labels.app}}/{{workflow.annotations.example.com/owner}}/{{workflow.parameters.team}}/{{workflow.creationTimestamp}}",
        { workflow: wf, podName: "p" },
      ),
    ).toBe("web/ops/infra/2026-03-05T07:08:09Z");
  });

  it("fails with SKF-ART-011 rather than write a literal {{...}} into a key", () => {
    expect(() => renderKeyFormat("{{workflow.labels.missing}}/x", { workflow: wf, podName: "p" })).toThrow(
      expect.objectContaining({
        code: "SKF-ART-011",
        message: expect.stringContaining("workflow.labels.missing"),
      }),
    );
  });
});

describe("S3 default repository", () => {
  const wf = workflow({}, { creationTimestamp: "2026-03-05T07:08:09Z" });

  it("locates outputs under Argo's default key in the configured bucket, without keyFormat", () => {
    const { base } = recordingBase();
    const repo = createS3Repository({ ...S3, keyFormat: "{{workflow.name}}/{{pod.name}}" }, wf, base);
    expect(
      repo.locate({ name: "out", path: "/tmp/out", gcs: { key: "x" } }, "wf-abc/wf-abc-main-1/out.tgz"),
    ).toEqual({ name: "out", path: "/tmp/out", s3: { ...S3, key: "wf-abc/wf-abc-main-1/out.tgz" } });
  });

  it("applies keyFormat (and Argo's deprecated keyPrefix) to the key the executor asks for", () => {
    const { base } = recordingBase();
    const formatted = createS3Repository(
      { bucket: "b", keyFormat: "{{workflow.creationTimestamp.Y}}/{{workflow.name}}/{{pod.name}}/" },
      wf,
      base,
    );
    expect(formatted.locate({ name: "o" }, "wf-abc/wf-abc-main-1/o.tgz").s3).toEqual({
      bucket: "b",
      key: "2026/wf-abc/wf-abc-main-1/o.tgz",
    });
    const prefixed = createS3Repository({ bucket: "b", keyPrefix: "team/" }, wf, base);
    expect(prefixed.locate({ name: "o" }, "wf-abc/wf-abc-main-1/dir/o.txt").s3).toEqual({
      bucket: "b",
      key: "team/wf-abc/wf-abc-main-1/dir/o.txt",
    });
  });

  it("keeps a key-only output's own key and serves key-only inputs from the bucket", async () => {
    const { base, calls } = recordingBase();
    const repo = createS3Repository({ ...S3, keyFormat: "x/{{pod.name}}" }, wf, base);
    const keyOnly: Artifact = { name: "file", path: "/mnt/file", s3: { key: "my-file" } };
    expect(repo.locate(keyOnly, "my-file").s3).toEqual({ ...S3, key: "my-file" });
    const driver = repo.driverFor({ name: "file", path: "/tmp/file", oss: { key: "my-file" } });
    await driver.load({ name: "file", path: "/tmp/file", oss: { key: "my-file" } }, "/tmp/dest");
    expect(calls.map(([op, a]) => [op, a.s3, a.oss])).toEqual([
      ["driverFor", { ...S3, key: "my-file" }, undefined],
      ["load", { ...S3, key: "my-file" }, undefined],
    ]);
  });

  it("hands artifacts with a full location to the base repository unchanged", () => {
    const { base, calls } = recordingBase();
    const repo = createS3Repository(S3, wf, base);
    const full: Artifact = { name: "a", s3: { bucket: "elsewhere", key: "k" } };
    repo.driverFor(full);
    expect(calls).toEqual([["driverFor", full]]);
  });
});

describe("createWorkflowArtifactRepository", () => {
  it("serves the embedded local repository by default", () => {
    const repo = createWorkflowArtifactRepository({ configured: {}, localRoot: dir, workflow: workflow() });
    expect(repo.locate({ name: "a" }, "wf/p/a.tgz")).toEqual({ name: "a", local: { key: "wf/p/a.tgz" } });
  });

  it("serves the S3 repository an artifact-repositories ConfigMap names, filling in the workflow's uid", () => {
    const wf = workflow({ artifactRepositoryRef: { key: "my-key" } });
    const repo = createWorkflowArtifactRepository({
      configured: {},
      localRoot: dir,
      workflow: wf,
      configMaps: maps(
        configMap({ "my-key": "s3:\n  bucket: b\n  keyFormat: '{{workflow.uid}}/{{pod.name}}'\n" }),
      ),
    });
    expect(wf.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(wf.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(repo.locate({ name: "a" }, "wf-abc/pod-1/a.tgz").s3).toEqual({
      bucket: "b",
      key: `${wf.metadata.uid}/pod-1/a.tgz`,
    });
  });

  it("fails up front with SKF-ART-011 when the key format names a label the workflow lacks", () => {
    expect(() =>
      createWorkflowArtifactRepository({
        configured: { s3: { bucket: "b", keyFormat: "{{workflow.labels.team}}/{{pod.name}}" } },
        localRoot: dir,
        workflow: workflow(),
      }),
    ).toThrow(expect.objectContaining({ code: "SKF-ART-011" }));
  });
});
