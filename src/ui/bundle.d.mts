/** Writes `index.html` and `ui-assets/{app.js,app.css,layout-worker.js}` into `outdir` (esbuild, for the browser). */
export function bundleUi(outdir: string, options?: { minify?: boolean }): Promise<void>;
