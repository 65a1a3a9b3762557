// Bundles the web UI for the browser: preact, elkjs and the CSS go into one folder the server serves
// (no CDN at run time). Used by scripts/build.mjs (into dist/ui) and by the UI tests (into a temp folder).
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const app = join(import.meta.dirname, "app");

/**
 * Writes `index.html` and `ui-assets/{app.js,app.css,layout-worker.js}` into `outdir`.
 * @param {string} outdir
 * @param {{ minify?: boolean }} [options]
 */
export async function bundleUi(outdir, options = {}) {
  mkdirSync(join(outdir, "ui-assets"), { recursive: true });
  await build({
    entryPoints: { app: join(app, "main.tsx"), "layout-worker": join(app, "graph", "layout-worker.ts") },
    outdir: join(outdir, "ui-assets"),
    bundle: true,
    platform: "browser",
    format: "esm",
    target: ["chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
  copyFileSync(join(app, "index.html"), join(outdir, "index.html"));
}
