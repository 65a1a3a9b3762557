import { readFile } from "node:fs/promises";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { SkiffError } from "../../runtime/errors/index.js";
import type { Store } from "../../runtime/interfaces/store.js";
import type { SkiffConfig } from "../config/index.js";
import type { CronScheduler } from "../../runtime/cron/index.js";
import { startStoreCronScheduler } from "../run/from-registry.js";
import { parseAge } from "../run/query.js";
import { openRunStore } from "../run/store.js";
import { archiveRoutes } from "./archive.js";
import { createGatekeeper, loadTokens, type AuthMode, type Gatekeeper } from "./auth.js";
import { ApiError, GRPC, readJsonBody, Router, sendError, sendJson } from "./http.js";
import { eventRoutes } from "./events.js";
import { infoRoutes } from "./info.js";
import { ServerMetrics } from "./metrics.js";
import { WorkflowRunner } from "./runner.js";
import { registryRoutes } from "./registry.js";
import { streamRoutes } from "./streams.js";
import { webhookRoutes } from "./webhooks.js";
import { workflowRoutes } from "./workflows.js";
import { createUiHandler, type UiHandler } from "../ui/serve.js";

export { SERVER_CODES } from "./codes.js";
export type { AuthMode } from "./auth.js";

/** How `startServer` listens and whom it lets in. */
export interface ServerOptions {
  config: SkiffConfig;
  /** Default 2746, Argo Server's port; 0 picks a free one. */
  port?: number;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default `token`: every route needs a configured bearer token. */
  authMode?: AuthMode;
  /** PEM certificate and key: the server speaks HTTPS. */
  tlsCert?: string;
  tlsKey?: string;
  /** The folder steps of API-created workflows see as their workspace (default: the current directory). */
  workspace?: string;
  /** How often workflows nobody runs are looked for (ms, default 2000). */
  pollMs?: number;
  /** Where warnings and run errors are written (default: stderr). */
  log?: (line: string) => void;
  /**
   * The built web UI (`dist/ui`, found beside the bundle by default); `false` serves the API only. Without a
   * built UI the server runs API-only and says so once.
   */
  uiDir?: string | false;
}

/** A running `skiff server`. */
export interface SkiffServer {
  /** `http(s)://host:port`. */
  readonly url: string;
  readonly port: number;
  readonly runner: WorkflowRunner;
  readonly metrics: ServerMetrics;
  /**
   * Graceful shutdown: stops accepting requests, ends the open streams, hands the running workflows back
   * (their leases released, their steps left running) so the next server resumes them, closes the store.
   */
  close(): Promise<void>;
  /** Stops taking new workflows and waits for the running ones to complete, then closes (tests, benchmarks). */
  drain(): Promise<void>;
}

const isLoopback = (host: string) => host === "localhost" || host === "::1" || host.startsWith("127.");

async function readTls(options: ServerOptions): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!options.tlsCert && !options.tlsKey) return undefined;
  if (!options.tlsCert || !options.tlsKey)
    throw new SkiffError("SKF-SRV-003", "--tls-cert and --tls-key must be given together");
  const read = async (file: string) =>
    readFile(file).catch((e: NodeJS.ErrnoException) => {
      throw new SkiffError("SKF-SRV-003", `cannot read ${file}: ${e.code ?? e.message}`, {
        position: { file },
      });
    });
  return { cert: await read(options.tlsCert), key: await read(options.tlsKey) };
}

/** The web UI in front of the API, or undefined (API only) when it is switched off or not built. */
function webUi(options: ServerOptions, tls: boolean, log: (line: string) => void): UiHandler | undefined {
  if (options.uiDir === false) return undefined;
  // In the bundle (dist/cli.js) the UI is dist/ui; run from the sources, it is the repository's dist/ui.
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = options.uiDir ?? (here.endsWith("dist") ? join(here, "ui") : join(here, "../../dist/ui"));
  try {
    return createUiHandler({ assetsDir: dir, hsts: tls });
  } catch (e) {
    log(`note: serving the API only: ${(e as Error).message}`);
    return undefined;
  }
}

function handler(
  router: Router,
  gate: Gatekeeper,
  metrics: ServerMetrics,
  state: { closing: boolean },
  ui: UiHandler | undefined,
) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;
    try {
      // The UI's pages and assets are public like Argo's: the page asks for a token, the API checks it.
      if (ui?.(req, res)) return;
      if (path === "/healthz" || path === "/readyz") {
        const ready = path === "/healthz" || !state.closing;
        res.writeHead(ready ? 200 : 503, { "Content-Type": "text/plain" });
        res.end(ready ? "ok\n" : "shutting down\n");
        return;
      }
      if (path === "/metrics") {
        try {
          gate.authorize(req, "read");
        } catch {
          // Argo answers a rejected scraper 403.
          throw new ApiError(GRPC.PermissionDenied, "Permission denied");
        }
        const text = await metrics.exposition();
        res.writeHead(200, { "Content-Type": metrics.contentType });
        res.end(text);
        return;
      }
      const method = req.method ?? "GET";
      const { route, params, pathKnown } = router.match(method, path);
      if (!route) {
        if (path.startsWith("/api/")) gate.authorize(req, "read");
        throw pathKnown
          ? new ApiError(GRPC.Unimplemented, "Method Not Allowed", 405)
          : new ApiError(GRPC.NotFound, "Not Found");
      }
      if (route.access !== "signed") gate.authorize(req, route.access);
      const value = await route.handler({
        req,
        res,
        params,
        query: url.searchParams,
        body: () => readJsonBody(req),
      });
      if (value !== undefined) sendJson(res, value);
    } catch (e) {
      // A refused body is not read any further: the connection closes after the answer.
      if (e instanceof SkiffError && e.code === "SKF-SRV-005") res.setHeader("Connection", "close");
      sendError(res, e);
    }
  };
}

/** Starts `skiff server`: Argo's REST API over the store, running the store's workflows. */
export async function startServer(options: ServerOptions): Promise<SkiffServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const mode = options.authMode ?? "token";
  if (mode !== "server" && mode !== "token")
    throw new SkiffError("SKF-SRV-006", `--auth-mode must be server or token (got ${String(mode)})`);
  const tokens = await loadTokens(options.config.server);
  if (mode === "token" && tokens.length === 0)
    throw new SkiffError(
      "SKF-SRV-006",
      "--auth-mode token needs at least one token in the config's server.tokens",
      {
        ...(options.config.configFile ? { position: { file: options.config.configFile } } : {}),
      },
    );
  const host = options.host ?? "127.0.0.1";
  if (mode === "server" && !isLoopback(host))
    log(
      `warning: --auth-mode server on ${host}: anyone who can reach this address can run workflows on this machine`,
    );
  const tls = await readTls(options);
  const store: Store = await openRunStore(options.config);
  const ttl = options.config.server?.metricsTTL;
  // Read at scrape time only, once the runner exists.
  const metrics = new ServerMetrics(() => runner.running, ttl ? parseAge(ttl) : 0);
  const runner: WorkflowRunner = new WorkflowRunner({
    config: options.config,
    store,
    metrics,
    ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    onError: (namespace, name, e) =>
      log(`workflow ${namespace}/${name}: ${e instanceof Error ? e.message : String(e)}`),
  });
  // Started once the server listens; the cron routes poke it from then on.
  const cron: { scheduler?: CronScheduler } = {};
  const gate = createGatekeeper(mode, tokens);
  const router = new Router().add(
    ...workflowRoutes({
      config: options.config,
      store,
      runner,
      workspace: options.workspace ?? process.cwd(),
    }),
    ...streamRoutes(store),
    ...archiveRoutes(store),
    ...registryRoutes({ store, onCronChange: () => void cron.scheduler?.poke() }),
    ...infoRoutes(mode),
    ...eventRoutes({ config: options.config, store, runner, workspace: options.workspace ?? process.cwd() }),
    ...webhookRoutes({ config: options.config, store, runner, log }),
  );
  const state = { closing: false };
  const handle = handler(router, gate, metrics, state, webUi(options, tls !== undefined, log));
  const onRequest = (req: IncomingMessage, res: ServerResponse) => void handle(req, res);
  const server: Server = tls
    ? createHttpsServer({ ...tls, minVersion: "TLSv1.2" }, onRequest)
    : createHttpServer(onRequest);
  // Longer than the keep-alive of HTTP clients (undici: 4 s), so that a client never reuses a connection the
  // server is closing at that moment (ECONNRESET under load).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (e) => {
      void store.close();
      reject(new SkiffError("SKF-SRV-006", `cannot listen on ${host}:${options.port ?? 2746}: ${e.message}`));
    });
    server.listen(options.port ?? 2746, host, () => resolve());
  });
  runner.start();
  // Every server of a store runs one: a firing's workflow is created only once, see docs/server.md. Its
  // runs are the server's own, with the server's settings, as the workflows created over the API.
  cron.scheduler = startStoreCronScheduler({
    store,
    config: options.config,
    start: (namespace, name) => runner.take(namespace, name),
    workspace: options.workspace ?? process.cwd(),
    onError: (e, where) =>
      log(`cron ${where ? `${where.namespace}/${where.name}: ` : ""}${e.code} ${e.message}`),
  });
  const port = (server.address() as AddressInfo).port;
  const shown = host.includes(":") ? `[${host}]` : host;
  const stop = async (finish: () => Promise<void>) => {
    if (state.closing) return;
    state.closing = true;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections();
    await cron.scheduler?.stop();
    await finish();
    await closed;
    metrics.close();
    await store.close();
  };
  return {
    url: `${tls ? "https" : "http"}://${shown}:${port}`,
    port,
    runner,
    metrics,
    close: () => stop(() => runner.handBackAll()),
    drain: () => stop(() => runner.drain()),
  };
}
