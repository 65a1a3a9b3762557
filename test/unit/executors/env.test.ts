import { describe, expect, it } from "vitest";
import { containerEnv } from "../../../runtime/executors/shared/index.js";
import type { ConfigMap, Secret } from "../../../runtime/spec/types.js";

const configMaps = new Map<string, ConfigMap>([
  ["cm", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm" }, data: { K: "cm" } }],
]);
const secrets = new Map<string, Secret>([
  [
    "s",
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "s" },
      data: { T: Buffer.from("tok").toString("base64") },
      stringData: { U: "plain" },
    },
  ],
]);
const sources = { namespace: "ns", configMaps, secrets };

describe("containerEnv (shared by every executor)", () => {
  it("builds env: base, envFrom with prefix, env in order, valueFrom keys resolved", () => {
    const env = containerEnv(
      {
        envFrom: [{ configMapRef: { name: "cm" } }, { secretRef: { name: "s" }, prefix: "S_" }],
        env: [
          { name: "A", value: "1" },
          { name: "K", value: "over" },
          { name: "TOKEN", valueFrom: { secretKeyRef: { name: "s", key: "T" } } },
          { name: "FROM_CM", valueFrom: { configMapKeyRef: { name: "cm", key: "K" } } },
        ],
      },
      { ARGO_X: "x", A: "base" },
      sources,
    );
    expect(env).toEqual({
      ARGO_X: "x",
      A: "1",
      K: "over",
      S_T: "tok",
      S_U: "plain",
      TOKEN: "tok",
      FROM_CM: "cm",
    });
  });

  it("fails with SKF-EXEC-011 and the kubelet's message for a missing Secret, ConfigMap or key", () => {
    const one = (valueFrom: Record<string, unknown>) => () =>
      containerEnv({ name: "main", env: [{ name: "X", valueFrom } as never] }, {}, sources);
    expect(one({ secretKeyRef: { name: "nope", key: "k" } })).toThrow(
      expect.objectContaining({
        code: "SKF-EXEC-011",
        message: expect.stringContaining(
          `CreateContainerConfigError: couldn't get secret ns/nope: secrets "nope" not found`,
        ),
      }),
    );
    expect(one({ secretKeyRef: { name: "s", key: "k" } })).toThrow(
      /CreateContainerConfigError: couldn't find key k in Secret ns\/s/,
    );
    expect(one({ configMapKeyRef: { name: "gone", key: "k" } })).toThrow(
      /couldn't get configMap ns\/gone: configmaps "gone" not found/,
    );
    expect(one({ configMapKeyRef: { name: "cm", key: "k" } })).toThrow(
      /couldn't find key k in ConfigMap ns\/cm/,
    );
    expect(() => containerEnv({ envFrom: [{ secretRef: { name: "nope" } }] }, {}, {})).toThrow(
      /secrets "nope" not found/,
    );
  });

  it("leaves out optional references that are missing", () => {
    const env = containerEnv(
      {
        envFrom: [{ configMapRef: { name: "gone", optional: true } }],
        env: [
          { name: "A", valueFrom: { secretKeyRef: { name: "nope", key: "k", optional: true } } },
          { name: "B", valueFrom: { configMapKeyRef: { name: "cm", key: "k", optional: true } } },
        ] as never,
      },
      {},
      sources,
    );
    expect(env).toEqual({});
  });
});
