/**
 * Serves the web UI from the server's process: the bundle under `/ui-assets/` and `index.html` for every
 * route the UI owns (Argo's URLs), so that links users know keep working. The server mounts it in front of
 * its own routes and handles whatever this handler declines (`/api/...`, `/artifact-files/...`, ...).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { SkiffError } from "../../runtime/errors/index.js";
import { UI_CODES } from "./codes.js";

/** Options of {@link createUiHandler}. */
export interface UiHandlerOptions {
  /** The built UI: a folder with `index.html` and `ui-assets/` (the build writes it to `dist/ui`). */
  assetsDir: string;
  /**
   * The URL prefix the UI is served under, like Argo's `--base-href` (default `/`). It becomes the page's
   * `<base href>`; requests may arrive with or without it (a proxy may strip it).
   */
  basePath?: string;
  /** Adds `Strict-Transport-Security`, as Argo does on UI responses when TLS and `--hsts` are on. */
  hsts?: boolean;
}

/** Answers a request when it belongs to the UI and returns true; returns false for everything else. */
export type UiHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The first path segments of the pages the UI routes on the client (Argo's UI URLs plus Skiff's). */
export const UI_ROUTES = [
  "workflows",
  "workflow-templates",
  "cluster-workflow-templates",
  "cron-workflows",
  "archived-workflows",
  "login",
] as const;

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".html": "text/html; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
  ".map": "application/json",
};

// Argo's UI headers: the page may only load what the same server serves (no CDN), and is never framed.
const SECURITY_HEADERS = {
  "X-Frame-Options": "DENY",
  "Content-Security-Policy": "default-src 'self' 'unsafe-inline'; img-src 'self' data: blob:",
  "X-Content-Type-Options": "nosniff",
};

/**
 * Creates the handler the server calls for every request before its own routes.
 *
 * @throws SkiffError SKF-UI-001 when `assetsDir` holds no built UI, SKF-UI-002 for a malformed `basePath`.
 */
export function createUiHandler(options: UiHandlerOptions): UiHandler {
  const basePath = normalizeBasePath(options.basePath ?? "/");
  const assetsDir = normalize(options.assetsDir);
  const indexFile = join(assetsDir, "index.html");
  if (!existsSync(indexFile) || !existsSync(join(assetsDir, "ui-assets"))) {
    throw new SkiffError(
      UI_CODES["SKF-UI-001"],
      `no built UI in ${assetsDir} (index.html or ui-assets/ missing)`,
      {
        path: "assetsDir",
      },
    );
  }
  const index = readFileSync(indexFile, "utf8").replace(
    /<base href="[^"]*"\s*\/?>/,
    `<base href="${basePath}" />`,
  );
  const assetsRoot = join(assetsDir, "ui-assets") + sep;
  const extra = options.hsts ? { "Strict-Transport-Security": "max-age=31536000" } : {};

  return (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    let path = decodePath(req.url ?? "/");
    if (path === undefined) return false;
    if (basePath !== "/" && (path + "/").startsWith(basePath)) path = "/" + path.slice(basePath.length);
    const first = path.split("/")[1] ?? "";

    if (first === "ui-assets") {
      const file = normalize(join(assetsDir, path));
      if (!file.startsWith(assetsRoot) || !isFile(file)) return false;
      const body = readFileSync(file);
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        ...extra,
        "Content-Type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
        "Content-Length": body.length,
        // The bundle changes with every release and its names do not: let browsers revalidate.
        "Cache-Control": "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return true;
    }
    if (path === "/" || path === "" || (UI_ROUTES as readonly string[]).includes(first)) {
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        ...extra,
        "Content-Type": CONTENT_TYPES[".html"],
        "Content-Length": Buffer.byteLength(index),
        "Cache-Control": "no-cache",
      });
      res.end(req.method === "HEAD" ? undefined : index);
      return true;
    }
    return false;
  };
}

function normalizeBasePath(raw: string): string {
  const trimmed = raw.trim();
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(trimmed) || trimmed.includes("//") || trimmed.includes("/../")) {
    throw new SkiffError(UI_CODES["SKF-UI-002"], `invalid UI base path "${raw}"`, { path: "basePath" });
  }
  return trimmed.endsWith("/") ? trimmed : `${trimmed}/`;
}

function decodePath(url: string): string | undefined {
  const path = url.split("?")[0] ?? "/";
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
