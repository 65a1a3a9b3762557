// @ts-check
import { readdirSync } from "node:fs";
import { join } from "node:path";
import tseslint from "typescript-eslint";
import importX, { createNodeResolver } from "eslint-plugin-import-x";

const root = import.meta.dirname;
/** Absolute glob of a repository path: `except` globs are matched against absolute file names. */
const abs = (/** @type {string} */ p) => join(root, p);
/** Sub-folders of a runtime folder: one zone per executor and per artifact driver, present or added later. */
const folders = (/** @type {string} */ dir) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);

const SKIFF = "{runtime,src}/**";
const SPEC = abs("runtime/spec/**");
const EXPR = abs("runtime/expr/**");
const ERRORS = abs("runtime/errors/**");
const INTERFACES = abs("runtime/interfaces/**");
// A brace pattern, because exceptions of a glob zone must be globs themselves.
const ARTIFACTS_INDEX = abs("runtime/artifacts/index.{ts,js}");
const EXECUTORS_FACTORY = "src/run/executors.ts";

/**
 * The import rules of the Layout table in the design (DESIGN.md). Each zone names
 * what its folder may import; everything else of Skiff (runtime/ or src/) is reported with the message.
 * @param {string} target
 * @param {string[]} allowed absolute globs
 * @param {string} message
 */
const onlyImports = (target, allowed, message) => ({
  target: `${target}/**`,
  from: SKIFF,
  except: [abs(`${target}/**`), ...allowed],
  message: `Boundary: ${message} (DESIGN.md, Layout).`,
});

// Kubernetes is named ahead of its folder so that its first file is already inside its zone.
const executors = [...new Set(["host", "docker", "kubernetes", ...folders("runtime/executors")])].filter(
  (name) => name !== "shared",
);
const drivers = folders("runtime/artifacts").filter((name) => name !== "shared");

const BOUNDARIES = [
  onlyImports("runtime/spec", [ERRORS], "runtime/spec imports nothing of Skiff but runtime/errors"),
  onlyImports("runtime/expr", [SPEC, ERRORS], "runtime/expr imports only runtime/spec and runtime/errors"),
  onlyImports(
    "runtime/controller",
    [SPEC, EXPR, INTERFACES, ERRORS],
    "runtime/controller imports only runtime/spec, runtime/expr, runtime/interfaces and runtime/errors",
  ),
  onlyImports(
    "runtime/executors/shared",
    [SPEC, INTERFACES, ERRORS, ARTIFACTS_INDEX],
    "runtime/executors/shared imports only runtime/spec, runtime/interfaces, runtime/errors and runtime/artifacts through runtime/artifacts/index.ts; never an executor",
  ),
  ...executors.map((name) =>
    onlyImports(
      `runtime/executors/${name}`,
      [abs("runtime/executors/shared/**"), SPEC, INTERFACES, ERRORS, ARTIFACTS_INDEX],
      `an executor (runtime/executors/${name}) imports only runtime/executors/shared, runtime/spec, runtime/interfaces, runtime/errors and runtime/artifacts through runtime/artifacts/index.ts; never another executor`,
    ),
  ),
  ...drivers.map((name) =>
    onlyImports(
      `runtime/artifacts/${name}`,
      [abs("runtime/artifacts/shared/**"), abs("runtime/artifacts/*.ts"), SPEC, INTERFACES, ERRORS],
      `an artifact driver (runtime/artifacts/${name}) imports only the artifacts' shared code, runtime/spec, runtime/interfaces and runtime/errors; never another driver`,
    ),
  ),
  onlyImports(
    "runtime/store",
    [SPEC, INTERFACES, ERRORS],
    "runtime/store imports only runtime/spec, runtime/interfaces and runtime/errors",
  ),
  onlyImports(
    "runtime/cron",
    [SPEC, EXPR, abs("runtime/controller/**"), INTERFACES, ERRORS],
    "runtime/cron imports only runtime/spec, runtime/expr, runtime/controller, runtime/interfaces and runtime/errors",
  ),
  onlyImports(
    "runtime/interfaces",
    [SPEC, ERRORS],
    "runtime/interfaces imports only runtime/spec and runtime/errors",
  ),
  {
    // The browser code runs in the user's browser and reaches Skiff only over the server's REST API;
    // the node side (serve.ts) may use the coded errors.
    target: "src/ui/**",
    from: SKIFF,
    except: [abs("src/ui/**"), ERRORS],
    message:
      "Boundary: src/ui speaks only the server's REST API; it imports nothing of Skiff but runtime/errors (DESIGN.md, Layout).",
  },
  {
    target: "src/ui/app/**",
    from: abs("runtime/**"),
    message: "Boundary: the browser code of src/ui/app imports nothing of Skiff (DESIGN.md, Layout).",
  },
  {
    target: "runtime/**",
    from: "src/**",
    message: "Boundary: runtime/ knows nothing of src/ (DESIGN.md, Layout).",
  },
  {
    // Every file of src/ but the executor factory.
    target: ["src/*.ts", "src/!(run)/**", "src/run/*/**", "src/run/!(executors).ts"],
    from: "runtime/executors/**",
    message: `Boundary: src/ reaches the executors only through the factory ${EXECUTORS_FACTORY} (DESIGN.md, Layout).`,
  },
  {
    target: "src/server/**",
    from: ["src/cli/**", "src/action/**"],
    message:
      "Boundary: src/server is a door beside the CLI and the Action; it uses src/run and below (DESIGN.md, Layout).",
  },
  {
    target: "src/**",
    from: "runtime/artifacts/**",
    except: [ARTIFACTS_INDEX],
    message:
      "Boundary: src/ reaches the artifact drivers only through runtime/artifacts/index.ts (DESIGN.md, Layout).",
  },
];

const boundaries = (/** @type {"error" | "warn"} */ level) => ({
  "import-x/no-restricted-paths": [level, { basePath: root, zones: BOUNDARIES }],
});

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "coverage/**", "**/*.mjs", "eslint.config.js"] },
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.tsx"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { "import-x": importX },
    settings: {
      // Sources import "./x.js" for "./x.ts" (NodeNext): resolve them so path rules see the real file.
      "import-x/resolver-next": [
        createNodeResolver({
          extensions: [".ts", ".tsx", ".js", ".json"],
          extensionAlias: { ".js": [".ts", ".tsx", ".js"] },
        }),
      ],
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "import-x/no-cycle": ["error", { maxDepth: 4 }],
    },
  },
  {
    files: ["runtime/**/*.ts", "src/**/*.ts", "src/**/*.tsx"],
    rules: boundaries("error"),
  },
);
