// Argo's REST API contract (the server's swagger, in ../shared/contracts) as a validator: the API double
// checks every request body it receives and every object it answers against it, so the UI is tested
// against the API as specified, not against whatever the double happens to send.
import { Ajv, type ValidateFunction } from "ajv";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const SWAGGER_PATH = join(
  import.meta.dirname,
  "..",
  "..",
  "..",
  "..",
  "shared",
  "contracts",
  "argo-server.swagger.json",
);

interface Operation {
  parameters?: { in: string; name: string; schema?: object }[];
  responses: Record<string, { schema?: { format?: string } & object }>;
}

interface Route {
  method: string;
  template: string;
  regex: RegExp;
  request?: ValidateFunction;
  response?: ValidateFunction;
  streaming: boolean;
}

export class SwaggerContract {
  private readonly routes: Route[] = [];

  constructor(swagger: { paths: Record<string, Record<string, Operation>>; definitions: object }) {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ $id: "argo", definitions: swagger.definitions });
    const compile = (schema: object | undefined): ValidateFunction | undefined =>
      schema
        ? ajv.compile(
            JSON.parse(JSON.stringify(schema).replaceAll('"#/definitions/', '"argo#/definitions/')) as object,
          )
        : undefined;
    // Literal segments first, so /workflows/{ns}/submit wins over /workflows/{ns}/{name}.
    const templates = Object.keys(swagger.paths).sort((a, b) => a.split("{").length - b.split("{").length);
    for (const template of templates) {
      const regex = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]*")}$`);
      for (const [method, op] of Object.entries(swagger.paths[template] ?? {})) {
        if (method === "parameters") continue;
        const ok = op.responses["200"]?.schema;
        const body = op.parameters?.find((p) => p.in === "body")?.schema;
        this.routes.push({
          method: method.toUpperCase(),
          template,
          regex,
          streaming: JSON.stringify(op.responses["200"] ?? {}).includes("streaming responses"),
          ...(body ? { request: compile(body) } : {}),
          ...(ok && ok.format !== "binary" ? { response: compile(ok) } : {}),
        } as Route);
      }
    }
  }

  /** Loads the contract from ../shared, or returns undefined when that folder is absent. */
  static load(): SwaggerContract | undefined {
    if (!existsSync(SWAGGER_PATH)) return undefined;
    return new SwaggerContract(
      JSON.parse(readFileSync(SWAGGER_PATH, "utf8")) as ConstructorParameters<typeof SwaggerContract>[0],
    );
  }

  /** The swagger operation a request maps to (undefined: the API has no such route). */
  route(method: string, path: string): Route | undefined {
    return this.routes.find((r) => r.method === method && r.regex.test(path));
  }

  /** Problems with a value against a route's request or response schema, as readable strings. */
  check(route: Route, kind: "request" | "response", value: unknown): string[] {
    const validate = route[kind];
    if (!validate || validate(value)) return [];
    return (validate.errors ?? []).map(
      (e) => `${route.method} ${route.template} ${kind}: ${e.instancePath} ${e.message ?? ""}`,
    );
  }
}
