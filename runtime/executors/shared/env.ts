import { SkiffError } from "../../errors/index.js";
import type { ConfigMap, Container, K8sObject, Secret } from "../../spec/types.js";
import { EXEC_CODES } from "./codes.js";

/** Where a container's `env`/`envFrom` references are looked up: the manifests loaded beside the workflow. */
export interface EnvSources {
  namespace?: string;
  /** The container's name in messages (`main` for a template's own container). */
  containerName?: string;
  configMaps?: ReadonlyMap<string, ConfigMap>;
  secrets?: ReadonlyMap<string, Secret>;
}

/**
 * A container's environment as the kubelet builds it: `base` (the controller's `ARGO_*`...), then `envFrom`
 * (ConfigMaps/Secrets, with `prefix`), then `env` entries in order, `valueFrom.configMapKeyRef` and
 * `secretKeyRef` resolved from the loaded manifests. A reference to a ConfigMap/Secret or key that is not
 * there throws `SKF-EXEC-011` with the kubelet's message (`CreateContainerConfigError`, which Argo shows on
 * the node), unless the reference is `optional: true` (the variable is then left out). `fieldRef` and
 * `resourceFieldRef` have nothing to read outside a cluster: they become empty.
 */
export function containerEnv(
  c: Container,
  base: Readonly<Record<string, string>>,
  sources: EnvSources,
): Record<string, string> {
  const env: Record<string, string> = { ...base };
  const ns = sources.namespace || "default";
  const fail = (message: string): never => {
    throw new SkiffError(
      EXEC_CODES["SKF-EXEC-011"],
      `CreateContainerConfigError: ${message} (SKF-EXEC-011, container '${sources.containerName ?? c.name ?? "main"}')`,
    );
  };
  const cmData = (name: string, optional: boolean): Record<string, string> | undefined => {
    const cm = sources.configMaps?.get(name);
    if (!cm) {
      if (optional) return undefined;
      return fail(`couldn't get configMap ${ns}/${name}: configmaps "${name}" not found`);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(cm.binaryData ?? {}))
      out[k] = Buffer.from(v, "base64").toString("utf8");
    Object.assign(out, cm.data ?? {});
    return out;
  };
  const secretData = (name: string, optional: boolean): Record<string, string> | undefined => {
    const s = sources.secrets?.get(name);
    if (!s) {
      if (optional) return undefined;
      return fail(`couldn't get secret ${ns}/${name}: secrets "${name}" not found`);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
    Object.assign(out, s.stringData ?? {});
    return out;
  };
  for (const from of c.envFrom ?? []) {
    const prefix = typeof from.prefix === "string" ? from.prefix : "";
    const cm = from.configMapRef as K8sObject | undefined;
    const sec = from.secretRef as K8sObject | undefined;
    const data = cm
      ? cmData(String(cm.name ?? ""), cm.optional === true)
      : sec
        ? secretData(String(sec.name ?? ""), sec.optional === true)
        : undefined;
    for (const [k, v] of Object.entries(data ?? {})) env[prefix + k] = v;
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      env[e.name] = e.value;
      continue;
    }
    const vf = (e as { valueFrom?: K8sObject }).valueFrom;
    const cmRef = vf?.configMapKeyRef as K8sObject | undefined;
    const secRef = vf?.secretKeyRef as K8sObject | undefined;
    const ref = cmRef ?? secRef;
    if (!ref) {
      env[e.name] = "";
      continue;
    }
    const name = String(ref.name ?? "");
    const key = String(ref.key ?? "");
    const optional = ref.optional === true;
    const data = cmRef ? cmData(name, optional) : secretData(name, optional);
    if (!data) continue;
    const value = data[key];
    if (value === undefined) {
      if (optional) continue;
      fail(`couldn't find key ${key} in ${cmRef ? "ConfigMap" : "Secret"} ${ns}/${name}`);
    }
    env[e.name] = value!;
  }
  return env;
}
