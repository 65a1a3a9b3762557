import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fake of Alibaba Cloud OSS's REST API for the operations Skiff's driver uses, path-style (`/bucket/key`):
 * PutBucket, PutObject, GetObject, HeadObject, DeleteObject, ListObjectsV2 (`list-type=2`), and the multipart calls
 * (InitiateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload). Answers are OSS's XML
 * shapes and error codes. Every request must carry `Authorization: OSS <AccessKeyId>:<Signature>` with a known
 * key; for object requests without sub-resources the signature (HMAC-SHA1 over OSS's V1 canonical string) is
 * recomputed and checked. Anything else is answered 400 and recorded in `violations`.
 */
export interface FakeOss {
  endpoint: string;
  objects: Map<string, Buffer>;
  uploads: Map<string, Map<number, Buffer>>;
  buckets: Set<string>;
  violations: string[];
  requests: string[];
  close(): Promise<void>;
}

const xml = (root: string, body: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<${root}>${body}</${root}>`;
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export async function startFakeOss(keys: Record<string, string>): Promise<FakeOss> {
  const objects = new Map<string, Buffer>();
  const uploads = new Map<string, Map<number, Buffer>>();
  const buckets = new Set<string>();
  const violations: string[] = [];
  const requests: string[] = [];

  const fail = (res: ServerResponse, status: number, code: string, message: string): void => {
    res
      .writeHead(status, { "content-type": "application/xml", "x-oss-request-id": randomUUID() })
      .end(xml("Error", `<Code>${code}</Code><Message>${esc(message)}</Message><RequestId>fake</RequestId>`));
  };
  const ok = (
    res: ServerResponse,
    status: number,
    body?: string,
    headers: Record<string, string> = {},
  ): void => {
    res.writeHead(status, {
      "x-oss-request-id": randomUUID(),
      ...(body ? { "content-type": "application/xml" } : {}),
      ...headers,
    });
    res.end(body);
  };

  const checkAuth = (req: IncomingMessage, resource: string, signed: boolean): string | undefined => {
    const m = /^OSS ([^:]+):(.+)$/.exec(req.headers.authorization ?? "");
    if (!m) return "missing or malformed Authorization header";
    const secret = keys[m[1]!];
    if (secret === undefined) return "InvalidAccessKeyId";
    if (!signed) return undefined;
    const h = req.headers;
    const ossHeaders = Object.keys(h)
      .filter((k) => k.startsWith("x-oss-"))
      .sort()
      .map((k) => `${k}:${String(h[k]).trim()}`);
    const canonical = [
      req.method,
      h["content-md5"] ?? "",
      h["content-type"] ?? "",
      h["x-oss-date"] ?? h.date ?? "",
      ...ossHeaders,
      resource,
    ].join("\n");
    const expected = createHmac("sha1", secret).update(canonical).digest("base64");
    return expected === m[2] ? undefined : "SignatureDoesNotMatch";
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = new URL(req.url ?? "/", "http://fake");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const [, bucket = "", ...rest] = url.pathname.split("/");
    const key = decodeURIComponent(rest.join("/"));
    const q = url.searchParams;
    const subresources = [...q.keys()];
    const authError = checkAuth(req, `/${bucket}/${key}`, subresources.length === 0 && key !== "");
    if (authError) {
      if (authError.startsWith("missing")) violations.push(authError);
      return fail(res, 403, authError.startsWith("missing") ? "AccessDenied" : authError, authError);
    }
    const id = `${bucket}/${key}`;

    if (key === "") {
      if (req.method === "PUT" && subresources.length === 0) {
        if (buckets.has(bucket))
          return fail(res, 409, "BucketAlreadyExists", "The requested bucket name is not available.");
        buckets.add(bucket);
        return ok(res, 200, undefined, { location: `/${bucket}` });
      }
      if (req.method === "GET" && q.get("list-type") === "2") {
        const prefix = q.get("prefix") ?? "";
        const max = Number(q.get("max-keys") ?? "100");
        const names = [...objects.keys()]
          .filter((k) => k.startsWith(`${bucket}/${prefix}`))
          .map((k) => k.slice(bucket.length + 1))
          .sort();
        const from = Number(q.get("continuation-token") ?? "0");
        // Pages of two at most, so the driver's continuation handling is exercised.
        const size = Math.min(max, 2);
        const page = names.slice(from, from + size);
        const truncated = from + size < names.length;
        const contents = page
          .map(
            (n) =>
              `<Contents><Key>${esc(n)}</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>${objects.get(`${bucket}/${n}`)!.length}</Size><StorageClass>Standard</StorageClass></Contents>`,
          )
          .join("");
        return ok(
          res,
          200,
          xml(
            "ListBucketResult",
            `<Name>${bucket}</Name><Prefix>${esc(prefix)}</Prefix><MaxKeys>${max}</MaxKeys><KeyCount>${page.length}</KeyCount><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${from + size}</NextContinuationToken>` : ""}${contents}`,
          ),
        );
      }
      violations.push(`bucket request not faked: ${req.method} ${url.search}`);
      return fail(res, 400, "InvalidRequest", "not faked");
    }

    if (req.method === "POST" && q.has("uploads")) {
      const uploadId = randomUUID().replace(/-/g, "");
      uploads.set(uploadId, new Map());
      return ok(
        res,
        200,
        xml(
          "InitiateMultipartUploadResult",
          `<Bucket>${bucket}</Bucket><Key>${esc(key)}</Key><UploadId>${uploadId}</UploadId>`,
        ),
      );
    }
    if (req.method === "PUT" && q.has("partNumber") && q.has("uploadId")) {
      const parts = uploads.get(q.get("uploadId")!);
      if (!parts) return fail(res, 404, "NoSuchUpload", "no such upload");
      parts.set(Number(q.get("partNumber")), body);
      return ok(res, 200, undefined, {
        etag: `"${createHash("md5").update(body).digest("hex").toUpperCase()}"`,
      });
    }
    if (req.method === "POST" && q.has("uploadId")) {
      const parts = uploads.get(q.get("uploadId")!);
      if (!parts) return fail(res, 404, "NoSuchUpload", "no such upload");
      const numbers = [...body.toString().matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) =>
        Number(m[1]),
      );
      if (numbers.length === 0 || numbers.some((n) => !parts.has(n))) {
        violations.push("CompleteMultipartUpload names parts that were not uploaded");
        return fail(res, 400, "InvalidPart", "invalid part");
      }
      objects.set(id, Buffer.concat(numbers.map((n) => parts.get(n)!)));
      uploads.delete(q.get("uploadId")!);
      return ok(
        res,
        200,
        xml(
          "CompleteMultipartUploadResult",
          `<Bucket>${bucket}</Bucket><Key>${esc(key)}</Key><ETag>"x"</ETag>`,
        ),
      );
    }
    if (req.method === "DELETE" && q.has("uploadId")) {
      uploads.delete(q.get("uploadId")!);
      return ok(res, 204);
    }
    if (subresources.length > 0) {
      violations.push(`object request with sub-resources not faked: ${req.method} ${url.search}`);
      return fail(res, 400, "InvalidRequest", "not faked");
    }
    switch (req.method) {
      case "PUT":
        if (
          req.headers["content-length"] !== undefined &&
          Number(req.headers["content-length"]) !== body.length
        ) {
          violations.push("PutObject body shorter than Content-Length");
          return fail(res, 400, "IncompleteBody", "incomplete body");
        }
        objects.set(id, body);
        return ok(res, 200, undefined, {
          etag: `"${createHash("md5").update(body).digest("hex").toUpperCase()}"`,
        });
      case "GET":
      case "HEAD": {
        const obj = objects.get(id);
        if (!obj) {
          if (req.method === "HEAD") return ok(res, 404);
          return fail(res, 404, "NoSuchKey", "The specified key does not exist.");
        }
        res.writeHead(200, {
          "content-length": String(obj.length),
          "content-type": "application/octet-stream",
          etag: '"x"',
          "x-oss-request-id": "fake",
        });
        res.end(req.method === "GET" ? obj : undefined);
        return;
      }
      case "DELETE":
        objects.delete(id);
        return ok(res, 204);
      default:
        violations.push(`method not faked: ${req.method}`);
        return fail(res, 405, "MethodNotAllowed", "method not allowed");
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    uploads,
    buckets,
    violations,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
