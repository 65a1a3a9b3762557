import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chown, mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A PostgreSQL server the integration tests may use. */
export interface PostgresServer {
  /** `postgres://...` for the `postgres` superuser and database. */
  url: string;
  /** Stops the server (when this helper started it) and removes its files. */
  stop(): Promise<void>;
}

/** Why there is no server to test against. */
export interface NoPostgres {
  skip: string;
}

function findBinDir(): string | undefined {
  const has = (dir: string) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl"));
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir && has(dir)) return dir;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => has(join(root, v, "bin")))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

function run(cmd: string, args: string[], user: { uid: number; gid: number } | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_ALL: "C", LANG: "C" },
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}:\n${out}`)),
    );
  });
}

/**
 * Uses `SKIFF_TEST_POSTGRES_URL` when set; otherwise, when `initdb` and `pg_ctl` exist (on PATH or under
 * `/usr/lib/postgresql/<version>/bin`), starts a throwaway cluster in a temp folder on a free localhost
 * port. `initdb` refuses to run as root, so as root the cluster runs as the `postgres` user. Unless `durable`,
 * the cluster does not flush to disk.
 */
export async function startPostgresServer(
  options: { durable?: boolean } = {},
): Promise<PostgresServer | NoPostgres> {
  const given = process.env.SKIFF_TEST_POSTGRES_URL;
  if (given) return { url: given, stop: async () => undefined };

  const bin = findBinDir();
  if (!bin) {
    return {
      skip: "PostgreSQL tests skipped: set SKIFF_TEST_POSTGRES_URL, or install PostgreSQL (apt-get install -y postgresql) so initdb and pg_ctl exist",
    };
  }
  let user: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    try {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      user = { uid, gid };
    } catch {
      return {
        skip: "PostgreSQL tests skipped: running as root and there is no `postgres` user to run initdb as",
      };
    }
  }
  const base = await mkdtemp(join(tmpdir(), "skiff-pg-"));
  const data = join(base, "data");
  const sockets = join(base, "sockets");
  await mkdir(sockets);
  if (user) {
    await chown(base, user.uid, user.gid);
    await chown(sockets, user.uid, user.gid);
  }
  const port = await freePort();
  const stop = async () => {
    await run(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"], user).catch(
      () => undefined,
    );
    await rm(base, { recursive: true, force: true });
  };
  try {
    await run(
      join(bin, "initdb"),
      ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"],
      user,
    );
    const settings = [
      `-p ${port}`,
      `-k ${sockets}`,
      "-c listen_addresses=127.0.0.1",
      // A throwaway cluster: durability is PostgreSQL's business, not what these tests check. Benchmarks ask
      // for PostgreSQL's defaults, so that a commit costs what it costs in production.
      ...(options.durable ? [] : ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]),
      "-c max_connections=200",
    ].join(" ");
    await run(
      join(bin, "pg_ctl"),
      ["-D", data, "-l", join(base, "server.log"), "-o", settings, "-w", "start"],
      user,
    );
  } catch (e) {
    await stop();
    return { skip: `PostgreSQL tests skipped: could not start a throwaway server: ${(e as Error).message}` };
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/postgres`, stop };
}
