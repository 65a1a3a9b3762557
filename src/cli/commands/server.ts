import { Command, Option } from "commander";
import { SkiffError } from "../../../runtime/errors/index.js";
import { loadConfig } from "../../config/index.js";
import { startServer, type AuthMode } from "../../server/index.js";
import { EXIT } from "../exit.js";
import { printError } from "../output.js";

interface ServerFlags {
  port: string;
  host: string;
  config?: string;
  authMode: AuthMode;
  tlsCert?: string;
  tlsKey?: string;
  stateDir?: string;
  store?: string;
  executor?: string;
  sandbox?: string;
}

/** `skiff server`: Argo's REST API on this machine; runs until SIGTERM/SIGINT, then hands its workflows back. */
export function serverCommand(setExitCode: (code: number) => void): Command {
  return new Command("server")
    .description("Serve Argo's REST API (/api/v1/...) and run the workflows of the store")
    .option("--port <port>", "port to listen on", "2746")
    .option("--host <address>", "address to listen on", "127.0.0.1")
    .option("--config <file>", "Skiff config file (tokens under server.tokens, store, executor)")
    .addOption(
      new Option("--auth-mode <mode>", "token: bearer tokens of the config; server: no authentication")
        .choices(["token", "server"])
        .default("token"),
    )
    .option("--tls-cert <file>", "PEM certificate: serve HTTPS")
    .option("--tls-key <file>", "PEM private key of --tls-cert")
    .option("--state-dir <dir>", "where runs, logs and local artifacts are kept")
    .option("--store <url>", "the store: a postgres:// URL or a folder (default: <state-dir>/store)")
    .addOption(
      new Option("--executor <name>", "where steps run").choices(["auto", "host", "docker", "kubernetes"]),
    )
    .addOption(new Option("--sandbox <mode>", "host executor sandbox").choices(["auto", "bwrap", "none"]))
    .addHelpText(
      "after",
      `
Examples:
  skiff server --config skiff.yaml
  skiff server --auth-mode server            # local use only: no token needed
  skiff server --host 0.0.0.0 --tls-cert tls.crt --tls-key tls.key --store postgres://skiff@db/skiff

SIGTERM or SIGINT stops accepting requests and hands running workflows back to the store, where the next
server resumes them. See docs/server.md.`,
    )
    .action(async (flags: ServerFlags) => {
      setExitCode(await serverAction(flags));
    });
}

async function serverAction(flags: ServerFlags): Promise<number> {
  let server;
  try {
    const port = Number(flags.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new SkiffError("SKF-SRV-006", `--port must be a port number (got ${flags.port})`);
    const config = await loadConfig(flags.config);
    if (flags.stateDir) config.stateDir = flags.stateDir;
    if (flags.store) config.store = flags.store;
    if (flags.executor) config.executor = flags.executor as typeof config.executor;
    if (flags.sandbox) config.host.sandbox = flags.sandbox as typeof config.host.sandbox;
    server = await startServer({
      config,
      port,
      host: flags.host,
      authMode: flags.authMode,
      ...(flags.tlsCert ? { tlsCert: flags.tlsCert } : {}),
      ...(flags.tlsKey ? { tlsKey: flags.tlsKey } : {}),
    });
  } catch (e) {
    printError(e as SkiffError);
    return EXIT.rejected;
  }
  process.stderr.write(`skiff server listening on ${server.url}\n`);
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      process.stderr.write("skiff server: shutting down, handing running workflows back\n");
      void running.close().then(resolve, resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  return EXIT.ok;
}
