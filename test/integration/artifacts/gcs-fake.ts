import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake of the Google Cloud Storage JSON API (v1), for the operations Skiff's driver uses. Every request is
 * checked against the published shape of those methods in the API's discovery document (`storage/v1`):
 * method, path, allowed query parameters, upload protocol and multipart body layout. A request that does not
 * match is answered 400 and recorded in `violations`, so a test can assert the client stayed in bounds.
 * Objects are kept in memory.
 */
export interface FakeGcs {
  endpoint: string;
  violations: string[];
  requests: string[];
  objects: Map<string, { data: Buffer; contentType: string; generation: number }>;
  close(): Promise<void>;
}

/** Query parameters every method accepts ("standard parameters" in the discovery document). */
const STANDARD = [
  "alt",
  "fields",
  "key",
  "oauth_token",
  "prettyPrint",
  "quotaUser",
  "userIp",
  "upload_protocol",
];
const PRECONDITIONS = [
  "ifGenerationMatch",
  "ifGenerationNotMatch",
  "ifMetagenerationMatch",
  "ifMetagenerationNotMatch",
];

/** The methods used, with their HTTP method, path template and parameters as the discovery document lists them. */
const METHODS = [
  {
    id: "storage.objects.insert",
    http: "POST",
    path: /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/,
    params: [
      "uploadType",
      "name",
      "contentEncoding",
      "kmsKeyName",
      "predefinedAcl",
      "projection",
      "userProject",
      ...PRECONDITIONS,
    ],
  },
  {
    id: "storage.objects.get",
    http: "GET",
    path: /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/,
    params: ["generation", "projection", "userProject", "softDeleted", ...PRECONDITIONS],
  },
  {
    id: "storage.objects.delete",
    http: "DELETE",
    path: /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/,
    params: ["generation", "userProject", ...PRECONDITIONS],
  },
  {
    id: "storage.objects.list",
    http: "GET",
    path: /^\/storage\/v1\/b\/([^/]+)\/o$/,
    params: [
      "delimiter",
      "endOffset",
      "includeTrailingDelimiter",
      "maxResults",
      "pageToken",
      "prefix",
      "projection",
      "startOffset",
      "userProject",
      "versions",
      "matchGlob",
      "softDeleted",
      "includeFoldersAsPrefixes",
    ],
  },
] as const;

/** CRC32C (Castagnoli), which GCS reports for every object. */
function crc32c(data: Buffer): Buffer {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  const out = Buffer.alloc(4);
  out.writeUInt32BE((crc ^ 0xffffffff) >>> 0);
  return out;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Splits a `multipart/related` body into parts of headers and content. */
function parseMultipart(
  body: Buffer,
  boundary: string,
): { headers: Record<string, string>; content: Buffer }[] {
  const delimiter = Buffer.from(`--${boundary}`);
  const parts: { headers: Record<string, string>; content: Buffer }[] = [];
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) throw new Error("multipart body has no closing delimiter");
    const raw = body.subarray(start + 2, next - 2); // drop the CRLF after the delimiter and before the next
    const split = raw.indexOf("\r\n\r\n");
    if (split === -1) throw new Error("multipart part has no header block");
    const headers: Record<string, string> = {};
    for (const line of raw.subarray(0, split).toString().split("\r\n")) {
      const i = line.indexOf(":");
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    parts.push({ headers, content: raw.subarray(split + 4) });
    at = next;
  }
  return parts;
}

export async function startFakeGcs(): Promise<FakeGcs> {
  const objects: FakeGcs["objects"] = new Map();
  const violations: string[] = [];
  const requests: string[] = [];
  let generation = 1;

  const resource = (bucket: string, name: string): Record<string, unknown> => {
    const o = objects.get(`${bucket}/${name}`)!;
    return {
      kind: "storage#object",
      id: `${bucket}/${name}/${o.generation}`,
      name,
      bucket,
      generation: String(o.generation),
      metageneration: "1",
      contentType: o.contentType,
      size: String(o.data.length),
      md5Hash: createHash("md5").update(o.data).digest("base64"),
      crc32c: crc32c(o.data).toString("base64"),
      timeCreated: new Date(0).toISOString(),
      updated: new Date(0).toISOString(),
    };
  };

  const send = (res: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(status, { "content-type": "application/json; charset=UTF-8" }).end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, reason: string, message: string): void =>
    send(res, status, { error: { code: status, message, errors: [{ domain: "global", reason, message }] } });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://fake");
    const body = await readBody(req);
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const method = METHODS.find((m) => m.http === req.method && m.path.test(url.pathname));
    if (!method) {
      violations.push(`no JSON API method for ${req.method} ${url.pathname}`);
      return error(res, 400, "invalid", "request matches no Cloud Storage JSON API method");
    }
    const allowed = new Set<string>([...STANDARD, ...method.params]);
    for (const q of url.searchParams.keys()) {
      if (!allowed.has(q)) {
        violations.push(`${method.id}: unknown query parameter '${q}'`);
        return error(res, 400, "invalidParameter", `unknown parameter ${q}`);
      }
    }
    const m = method.path.exec(url.pathname)!;
    const bucket = decodeURIComponent(m[1]!);
    const name = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    const alt = url.searchParams.get("alt") ?? "json";
    if (!["json", "media"].includes(alt) || (alt === "media" && method.id !== "storage.objects.get")) {
      violations.push(`${method.id}: alt=${alt} not allowed`);
      return error(res, 400, "invalidParameter", `alt=${alt}`);
    }

    if (method.id === "storage.objects.insert") {
      const uploadType = url.searchParams.get("uploadType");
      let objectName = url.searchParams.get("name") ?? undefined;
      let data: Buffer;
      let contentType = "application/octet-stream";
      if (uploadType === "media") {
        data = body;
        contentType = req.headers["content-type"] ?? contentType;
      } else if (uploadType === "multipart") {
        const ct = req.headers["content-type"] ?? "";
        const boundary = /^multipart\/related;\s*boundary="?([^";]+)"?/i.exec(ct)?.[1];
        if (!boundary) {
          violations.push(`multipart upload with content-type '${ct}'`);
          return error(res, 400, "invalid", "multipart upload needs multipart/related");
        }
        let parts;
        try {
          parts = parseMultipart(body, boundary);
        } catch (e) {
          violations.push(`multipart body: ${(e as Error).message}`);
          return error(res, 400, "invalid", "malformed multipart body");
        }
        if (parts.length !== 2 || !parts[0]!.headers["content-type"]?.startsWith("application/json")) {
          violations.push("multipart upload must be a JSON metadata part followed by one media part");
          return error(res, 400, "invalid", "malformed multipart body");
        }
        const meta = JSON.parse(parts[0]!.content.toString()) as { name?: string; contentType?: string };
        objectName = meta.name ?? objectName;
        data = parts[1]!.content;
        contentType = meta.contentType ?? parts[1]!.headers["content-type"] ?? contentType;
      } else {
        violations.push(`upload with uploadType=${uploadType}: only media and multipart are faked`);
        return error(res, 400, "invalid", "unsupported uploadType");
      }
      if (!objectName) {
        violations.push("upload without an object name");
        return error(res, 400, "required", "Required parameter: name");
      }
      objects.set(`${bucket}/${objectName}`, { data, contentType, generation: generation++ });
      return send(res, 200, resource(bucket, objectName));
    }

    if (method.id === "storage.objects.list") {
      const prefix = url.searchParams.get("prefix") ?? "";
      const max = Number(url.searchParams.get("maxResults") ?? "1000");
      const names = [...objects.keys()]
        .filter((k) => k.startsWith(`${bucket}/`))
        .map((k) => k.slice(bucket.length + 1))
        .filter((n) => n.startsWith(prefix))
        .sort();
      // Pages of two when the client does not ask otherwise, so pagination is exercised.
      const size = Math.min(max, 2);
      const from = Number(url.searchParams.get("pageToken") ?? "0");
      const page = names.slice(from, from + size);
      const out: Record<string, unknown> = {
        kind: "storage#objects",
        items: page.map((n) => resource(bucket, n)),
      };
      if (from + size < names.length) out.nextPageToken = String(from + size);
      return send(res, 200, out);
    }

    const key = `${bucket}/${name}`;
    const obj = objects.get(key);
    if (!obj) return error(res, 404, "notFound", `No such object: ${key}`);
    if (method.id === "storage.objects.delete") {
      objects.delete(key);
      return send(res, 204);
    }
    if (alt === "media") {
      res.writeHead(200, {
        "content-type": obj.contentType,
        "content-length": String(obj.data.length),
        "x-goog-hash": `crc32c=${crc32c(obj.data).toString("base64")},md5=${createHash("md5").update(obj.data).digest("base64")}`,
        "x-goog-generation": String(obj.generation),
        "x-goog-stored-content-length": String(obj.data.length),
      });
      res.end(obj.data);
      return;
    }
    return send(res, 200, resource(bucket, name!));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      violations.push(`fake failed: ${(e as Error).message}`);
      if (!res.headersSent) error(res, 500, "backendError", (e as Error).message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    violations,
    requests,
    objects,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
