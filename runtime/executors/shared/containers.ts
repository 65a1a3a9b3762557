import { SkiffError } from "../../errors/index.js";
import type { Container, ContainerNode, Template } from "../../spec/types.js";
import { EXEC_CODES } from "./codes.js";

/** What a container is to its pod. */
export type ContainerRole = "init" | "main" | "sidecar" | "set";

/**
 * Walks a pod template's containers in the order a pod starts them (init containers, then main, the script or
 * a containerSet's containers, then sidecars) and returns what `plan` makes of each. A containerSet is checked
 * first: each container needs a unique name and may only depend on others of the set, without cycles
 * (SKF-EXEC-007). `scriptPath` is the file a script's command is given, where the executor writes `source`.
 */
export function planPodContainers<P>(
  t: Template,
  kind: "container" | "script" | "containerSet",
  scriptPath: string,
  plan: (c: Container, name: string, role: ContainerRole, extra?: string[]) => P,
): P[] {
  const plans: P[] = [];
  (t.initContainers ?? []).forEach((c, i) => plans.push(plan(c, c.name ?? `init-${i}`, "init")));
  if (kind === "container") plans.push(plan(t.container!, "main", "main"));
  if (kind === "script") plans.push(plan(t.script!, "main", "main", [scriptPath]));
  if (kind === "containerSet") {
    const set = t.containerSet!.containers;
    assertValidContainerSet(set);
    for (const c of set) plans.push(plan(c, c.name, "set"));
  }
  (t.sidecars ?? []).forEach((c, i) => plans.push(plan(c, c.name ?? `sidecar-${i}`, "sidecar")));
  return plans;
}

function assertValidContainerSet(set: readonly ContainerNode[]): void {
  const byName = new Map<string, ContainerNode>();
  for (const c of set) {
    if (!c.name || byName.has(c.name)) {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-007"],
        `containerSet container name '${c.name}' is missing or repeated`,
      );
    }
    byName.set(c.name, c);
  }
  for (const c of set) {
    for (const d of c.dependencies ?? []) {
      if (!byName.has(d)) {
        throw new SkiffError(
          EXEC_CODES["SKF-EXEC-007"],
          `container '${c.name}' depends on unknown container '${d}'`,
        );
      }
    }
  }
  const seen = new Map<string, "visiting" | "done">();
  const visit = (c: ContainerNode): void => {
    const s = seen.get(c.name);
    if (s === "done") return;
    if (s === "visiting") {
      throw new SkiffError(
        EXEC_CODES["SKF-EXEC-007"],
        `containerSet dependencies form a cycle through '${c.name}'`,
      );
    }
    seen.set(c.name, "visiting");
    for (const d of c.dependencies ?? []) visit(byName.get(d)!);
    seen.set(c.name, "done");
  };
  set.forEach(visit);
}
