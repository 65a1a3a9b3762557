/** Flat variables, Argo style: "inputs.parameters.x" -> value. A key mapped to null is an "absent optional" (§2.4). */
export type Vars = ReadonlyMap<string, string | null> | Readonly<Record<string, string | null>>;
