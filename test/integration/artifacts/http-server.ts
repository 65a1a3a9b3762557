import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  bodyBytes: number;
}

/**
 * A small file server on localhost: PUT stores, GET/HEAD serve, DELETE removes. With `users`, every request
 * needs matching basic auth (401 otherwise). With `checksums`, a PUT's `X-Checksum-Sha256` must match the body,
 * as Artifactory checks (409 otherwise). `/redirect/<path>` answers 302 to `/<path>`.
 */
export interface FileServer {
  url: string;
  files: Map<string, Buffer>;
  seen: SeenRequest[];
  /** Forms of the token requests granted. */
  tokenRequests: URLSearchParams[];
  close(): Promise<void>;
}

export async function startFileServer(
  options: {
    users?: Record<string, string>;
    checksums?: boolean;
    /** An OAuth2 token endpoint at `/token` (client-credentials grant); other paths then need the bearer token. */
    oauth2?: { clientId: string; clientSecret: string; token: string };
  } = {},
): Promise<FileServer> {
  const files = new Map<string, Buffer>();
  const seen: SeenRequest[] = [];
  const tokenRequests: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const p = new URL(req.url ?? "/", "http://x").pathname;
      seen.push({ method: req.method ?? "", path: p, headers: req.headers, bodyBytes: body.length });
      if (options.oauth2) {
        const o = options.oauth2;
        if (p === "/token") {
          const m = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
          const [id, secret] = m ? Buffer.from(m[1]!, "base64").toString().split(":") : [];
          const form = new URLSearchParams(body.toString());
          if (req.method !== "POST" || form.get("grant_type") !== "client_credentials") {
            res
              .writeHead(400, { "content-type": "application/json" })
              .end('{"error":"unsupported_grant_type"}');
          } else if (id !== o.clientId || secret !== o.clientSecret) {
            res.writeHead(401, { "content-type": "application/json" }).end('{"error":"invalid_client"}');
          } else {
            tokenRequests.push(form);
            res
              .writeHead(200, { "content-type": "application/json" })
              .end(JSON.stringify({ access_token: o.token, token_type: "Bearer" }));
          }
          return;
        }
        if (req.headers.authorization !== `Bearer ${o.token}`) {
          res.writeHead(401).end("no token");
          return;
        }
      }
      if (options.users) {
        const m = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
        const [u, pw] = m ? Buffer.from(m[1]!, "base64").toString().split(":") : [];
        if (u === undefined || options.users[u] !== pw) {
          res.writeHead(401, { "www-authenticate": 'Basic realm="test"' }).end("bad credentials");
          return;
        }
      }
      if (p.startsWith("/redirect/")) {
        res.writeHead(302, { location: p.slice("/redirect".length) }).end();
        return;
      }
      switch (req.method) {
        case "PUT": {
          const declared = Number(req.headers["content-length"]);
          if (declared !== body.length) {
            res.writeHead(400).end("length mismatch");
            return;
          }
          const sum = req.headers["x-checksum-sha256"];
          if (options.checksums && sum !== createHash("sha256").update(body).digest("hex")) {
            res.writeHead(409).end("checksum mismatch");
            return;
          }
          files.set(p, body);
          res.writeHead(201).end();
          return;
        }
        case "GET":
        case "HEAD": {
          const f = files.get(p);
          if (!f) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200, { "content-length": String(f.length) });
          res.end(req.method === "GET" ? f : undefined);
          return;
        }
        case "DELETE":
          res.writeHead(files.delete(p) ? 204 : 404).end();
          return;
        default:
          res.writeHead(405).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    files,
    seen,
    tokenRequests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
