/**
 * Leaf templates: container, script, containerSet, resource, http, data, init containers and sidecars.
 */
import { parseAllDocuments } from "yaml";
import { SPEC_CODES } from "../codes.js";
import type { TemplateScope } from "../compiled.js";
import type { TemplateType } from "../types.js";
import { checkArtifactLocation } from "./arguments.js";
import {
  arr,
  dict,
  hasVar,
  str,
  findCycle,
  type RuleContext,
  type Dict,
  type Path,
  type Scope,
} from "./context.js";
import { checkVariables } from "./variables.js";

const RESOURCE_ACTIONS = ["get", "create", "apply", "delete", "replace", "patch"];

export function checkLeaf(
  ctx: RuleContext,
  t: Dict,
  path: Path,
  scope: TemplateScope,
  vars: Scope,
  type: TemplateType | undefined,
): void {
  const name = String(t.name ?? "");
  const body: Dict = { ...t };
  delete body.outputs;
  checkVariables(ctx, body, vars, path, scope, `templates.${name}`);
  const defaults = dict(ctx.compiled.workflow.spec.templateDefaults);
  const container = dict(t.container);
  if (type === "container" && container) {
    // Volume mounts and input artifact paths share one namespace of paths inside the container.
    const mounts = new Map<string, string>();
    const claim = (items: unknown[], field: "container.volumeMounts" | "inputs.artifacts", key: string) =>
      items.forEach((item, i) => {
        const at = str(dict(item)?.[key]);
        if (at === undefined) return;
        const prev = mounts.get(at);
        if (prev !== undefined) {
          ctx.report(
            SPEC_CODES["SKF-SPEC-069"],
            `templates.${name}.${field}[${i}].${key} '${at}' already mounted in ${prev}`,
            [...path, ...field.split("."), i, key],
            scope,
          );
        }
        mounts.set(at, `${field}.${String(dict(item)?.name)}`);
      });
    claim(arr(container.volumeMounts), "container.volumeMounts", "mountPath");
    claim(arr(dict(t.inputs)?.artifacts), "inputs.artifacts", "path");
    if (
      (typeof container.image !== "string" || container.image === "") &&
      !str(dict(defaults?.container)?.image)
    ) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-011"],
        `templates.${name}.container.image may not be empty`,
        [...path, "container"],
        scope,
      );
    }
  }
  const script = dict(t.script);
  if (
    type === "script" &&
    script &&
    (typeof script.image !== "string" || script.image === "") &&
    !str(dict(defaults?.script)?.image)
  ) {
    ctx.report(
      SPEC_CODES["SKF-SPEC-011"],
      `templates.${name}.script.image may not be empty`,
      [...path, "script"],
      scope,
    );
  }
  const cs = dict(t.containerSet);
  if (type === "containerSet" && cs) {
    const containers = arr(cs.containers).map((c) => dict(c) ?? {});
    const names = new Set<string>();
    containers.forEach((c, i) => {
      const cn = str(c.name) ?? "";
      if (names.has(cn))
        ctx.report(
          SPEC_CODES["SKF-SPEC-023"],
          `templates.${name}.containerSet.containers[${i}].name '${cn}' is not unique`,
          [...path, "containerSet", "containers", i, "name"],
          scope,
        );
      names.add(cn);
    });
    containers.forEach((c, i) => {
      arr(c.dependencies).forEach((d, di) => {
        if (typeof d === "string" && !names.has(d)) {
          ctx.report(
            SPEC_CODES["SKF-SPEC-051"],
            `templates.${name}.containerSet.containers[${i}] dependency '${d}' not defined`,
            [...path, "containerSet", "containers", i, "dependencies", di],
            scope,
          );
        }
      });
    });
    const cdeps = new Map(
      containers.map((c) => [
        str(c.name) ?? "",
        arr(c.dependencies).filter((d): d is string => typeof d === "string" && names.has(d)),
      ]),
    );
    const cyc = findCycle([...cdeps.keys()], cdeps);
    if (cyc)
      ctx.report(
        SPEC_CODES["SKF-SPEC-050"],
        `templates.${name}.containerSet dependency cycle detected: ${cyc.join("->")}`,
        [...path, "containerSet"],
        scope,
      );
    const outs = dict(t.outputs) ?? {};
    if (
      (arr(dict(t.inputs)?.artifacts).length > 0 ||
        arr(outs.parameters).length > 0 ||
        arr(outs.artifacts).length > 0) &&
      !names.has("main")
    ) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-069"],
        `templates.${name}.containerSet.containers must have a container named "main" for input or output`,
        [...path, "containerSet"],
        scope,
      );
    }
  }
  const resource = dict(t.resource);
  if (type === "resource" && resource) {
    const action = resource.action;
    if (typeof action === "string" && !hasVar(action) && !RESOURCE_ACTIONS.includes(action)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-013"],
        `templates.${name}.resource.action must be one of: get, create, apply, delete, replace, patch`,
        [...path, "resource", "action"],
        scope,
      );
    }
    if (action !== "delete" && action !== "get") {
      const manifest = resource.manifest;
      const from = dict(resource.manifestFrom);
      if ((typeof manifest !== "string" || manifest === "") && !from) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-011"],
          `either templates.${name}.resource.manifest or templates.${name}.resource.manifestFrom must be specified`,
          [...path, "resource"],
          scope,
        );
      }
      if (typeof manifest === "string" && manifest !== "" && from) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-069"],
          "shouldn't have both `manifest` and `manifestFrom` specified in `Manifest` for resource template",
          [...path, "resource", "manifestFrom"],
          scope,
        );
      }
      const artName = str(dict(from?.artifact)?.name);
      if (artName !== undefined && !arr(dict(t.inputs)?.artifacts).some((a) => dict(a)?.name === artName)) {
        ctx.report(
          SPEC_CODES["SKF-SPEC-044"],
          `artifact ${artName} in \`manifestFrom\` refer to a non-exist artifact`,
          [...path, "resource", "manifestFrom"],
          scope,
        );
      }
      if (typeof manifest === "string" && manifest !== "") {
        // Argo checks the manifest after substituting variables, so tags become plain values first.
        const replaced = manifest.replace(/{{[^}]*}}/g, "placeholder");
        try {
          parseAllDocuments(replaced, { uniqueKeys: false, logLevel: "silent" }).forEach((d) => {
            if (d.errors.length > 0) throw d.errors[0];
          });
        } catch {
          ctx.report(
            SPEC_CODES["SKF-SPEC-069"],
            `templates.${name}.resource.manifest must be a valid yaml`,
            [...path, "resource", "manifest"],
            scope,
          );
        }
      }
    }
  }
  const http = dict(t.http);
  if (type === "http" && http && typeof http.method === "string" && !hasVar(http.method)) {
    if (
      !["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE"].includes(
        http.method.toUpperCase(),
      )
    ) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-013"],
        `templates.${name}.http.method '${http.method}' is not an HTTP method`,
        [...path, "http", "method"],
        scope,
      );
    }
  }
  if (type === "data") {
    const data = dict(t.data) ?? {};
    if (!dict(dict(data.source)?.artifactPaths)) {
      ctx.report(
        SPEC_CODES["SKF-SPEC-011"],
        `templates.${name}.data.source.artifactPaths is required`,
        [...path, "data", "source"],
        scope,
      );
    }
  }
  for (const [field, list] of [
    ["initContainers", t.initContainers],
    ["sidecars", t.sidecars],
  ] as const) {
    arr(list).forEach((c, i) => {
      if (typeof dict(c)?.name !== "string" || dict(c)?.name === "") {
        ctx.report(
          SPEC_CODES["SKF-SPEC-011"],
          `${field} must all have container name`,
          [...path, field, i],
          scope,
        );
      }
    });
  }
  const archive = dict(t.archiveLocation);
  if (archive) checkArtifactLocation(ctx, archive, [...path, "archiveLocation"], scope);
}
