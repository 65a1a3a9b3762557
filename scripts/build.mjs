// Bundles the entry points into dist/. The bundles are committed, so the output must be deterministic.
import { build } from "esbuild";
import { existsSync } from "node:fs";

const entries = [
  { in: "src/cli/index.ts", out: "cli" },
  { in: "src/action/index.ts", out: "action" },
  { in: "src/action/post.ts", out: "action-post" },
].filter((e) => existsSync(e.in));

await build({
  entryPoints: entries,
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  banner: {
    js: [
      "#!/usr/bin/env node",
      'import { createRequire as __skiffCreateRequire } from "node:module";',
      "const require = __skiffCreateRequire(import.meta.url);",
    ].join("\n"),
  },
});
