import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A stand-in for the one internet host Argo's examples call (raw.githubusercontent.com), served on
 * 127.0.0.1:443 with a certificate from a throwaway CA. Workflows reach it through `hostAliases`, the way a
 * pod would reach a mirror; the CA goes to the executor as an extra trusted root. Like GitHub, it answers
 * 200 with JSON for a file at a commit hash and 404 for a ref that does not exist.
 */
export interface NetworkDouble {
  hostAliases: { ip: string; hostnames: string[] }[];
  caPem: string;
  requests: string[];
  close(): Promise<void>;
}

const HOSTS = ["raw.githubusercontent.com"];

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: "ignore" });
}

export async function startNetworkDouble(port = 443): Promise<NetworkDouble> {
  const dir = mkdtempSync(join(tmpdir(), "skiff-netdouble-"));
  try {
    openssl(
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Skiff test CA",
      ],
      dir,
    );
    writeFileSync(join(dir, "san.cnf"), `subjectAltName=${HOSTS.map((h) => `DNS:${h}`).join(",")}\n`);
    openssl(
      [
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        `/CN=${HOSTS[0]}`,
      ],
      dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
      ],
      dir,
    );
    const caPem = readFileSync(join(dir, "ca.pem"), "utf8");
    const requests: string[] = [];
    const server: Server = createServer(
      { key: readFileSync(join(dir, "srv.key")), cert: readFileSync(join(dir, "srv.pem")) },
      (req, res) => {
        requests.push(`${req.method} ${req.headers.host}${req.url}`);
        const m = /^\/[^/]+\/[^/]+\/([^/]+)\/.+\.json$/.exec(req.url ?? "");
        if (m && /^[0-9a-f]{40}$/.test(m[1]!)) {
          res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
          res.end(
            JSON.stringify({
              swagger: "2.0",
              info: { title: "Argo Workflows API", version: "VERSION" },
              paths: {},
            }),
          );
        } else {
          res.writeHead(404, { "content-type": "text/plain; charset=utf-8" });
          res.end("404: Not Found");
        }
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    return {
      hostAliases: [{ ip: "127.0.0.1", hostnames: HOSTS }],
      caPem,
      requests,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
