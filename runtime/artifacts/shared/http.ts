import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { Agent, fetch as undiciFetch } from "undici";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import type { Artifact } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ARTD_CODES } from "./codes.js";
import { isAuthStatus } from "./fields.js";
import { fingerprint } from "./secrets.js";
import { checkDeclaredSize, isDirectory, writeBody } from "./files.js";
import { notFound } from "./object-store.js";

/** Drops credentials from a URL before it appears in a message. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "***";
      u.password = "";
    }
    for (const k of [...u.searchParams.keys()]) {
      if (/sig|token|key|secret|password|credential/i.test(k)) u.searchParams.set(k, "***");
    }
    return u.toString();
  } catch {
    return "<invalid url>";
  }
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

function failure(where: string, action: string, status: number, detail: string): SkiffError {
  const code = isAuthStatus(status) ? ARTD_CODES["SKF-ARTD-006"] : ARTD_CODES["SKF-ARTD-005"];
  return new SkiffError(code, `${action} ${where} failed: HTTP ${status}${detail ? `: ${detail}` : ""}`);
}

/** TLS material for one server: a client certificate and key (mutual TLS), extra trusted CAs. PEM text. */
export interface HttpTls {
  cert?: string;
  key?: string;
  ca?: string;
}

const agents = new Map<string, Agent>();

/** One connection pool per TLS setting, keyed by a digest so the key material is not a map key. */
function agentFor(tls: HttpTls): Agent {
  const id = fingerprint(tls.cert, tls.key, tls.ca);
  let agent = agents.get(id);
  if (!agent) {
    agent = new Agent({ connect: { ...tls } });
    agents.set(id, agent);
  }
  return agent;
}

async function send(
  url: string,
  init: RequestInit,
  where: string,
  action: string,
  tls: HttpTls | undefined,
): Promise<Response> {
  try {
    if (tls && (tls.cert || tls.key || tls.ca)) {
      // Node's own fetch takes no TLS options; undici's fetch with a dispatcher does.
      return (await undiciFetch(url, {
        ...(init as object),
        dispatcher: agentFor(tls),
      })) as unknown as Response;
    }
    return await fetch(url, init);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    throw new SkiffError(
      ARTD_CODES["SKF-ARTD-005"],
      `${action} ${where} failed: ${cause ?? (e as Error).message}`,
      { cause: e },
    );
  }
}

/** A short excerpt of an error body: servers often say why there. */
async function excerpt(res: Response): Promise<string> {
  try {
    return (await res.text()).slice(0, 200).trim();
  } catch {
    return "";
  }
}

/**
 * GETs `url` into `dest` (redirects followed), bounded by `maxBytes` on the declared length and while reading.
 * 404 is SKF-ART-003, 401/403 SKF-ARTD-006, anything else not 2xx SKF-ARTD-005.
 */
export async function httpDownload(
  artifact: Artifact,
  url: string,
  headers: Record<string, string>,
  dest: string,
  maxBytes: number,
  tls?: HttpTls,
): Promise<void> {
  const where = redactUrl(url);
  const res = await send(url, { headers }, where, "downloading", tls);
  if (res.status === 404 || res.status === 410) {
    await res.body?.cancel();
    throw notFound(artifact, where);
  }
  if (!res.ok) throw failure(where, "downloading", res.status, await excerpt(res));
  const length = res.headers.get("content-length");
  try {
    checkDeclaredSize(length === null ? undefined : Number(length), maxBytes, where);
  } catch (e) {
    await res.body?.cancel();
    throw e;
  }
  const body = res.body ?? Readable.from([]);
  await writeBody(body as WebReadableStream<Uint8Array> | Readable, dest, maxBytes, where);
}

/**
 * PUTs a file to `url` in one request with its length declared. Whether a half-received body can become
 * visible is up to the server; a single PUT is all-or-nothing on every common one (Artifactory, WebDAV, S3
 * presigned URLs, nginx's dav module).
 */
export async function httpUpload(
  url: string,
  headers: Record<string, string>,
  file: string,
  tls?: HttpTls,
): Promise<void> {
  const where = redactUrl(url);
  if (await isDirectory(file)) {
    throw new SkiffError(
      ARTD_CODES["SKF-ARTD-007"],
      `${where}: a folder cannot be uploaded over HTTP; archive it (the default) instead of archive: none`,
    );
  }
  const size = (await stat(file)).size;
  const res = await send(
    url,
    {
      method: "PUT",
      headers: { "content-type": "application/octet-stream", ...headers, "content-length": String(size) },
      body: Readable.toWeb(createReadStream(file)) as unknown as ReadableStream,
      duplex: "half",
    } as RequestInit,
    where,
    "uploading to",
    tls,
  );
  const detail = res.ok ? "" : await excerpt(res);
  if (res.ok) await res.body?.cancel();
  if (!res.ok) throw failure(where, "uploading to", res.status, detail);
}

/** HEAD `url`: true for 2xx, false for 404/410. Servers refusing HEAD (405) are asked with a one-byte GET. */
export async function httpExists(
  url: string,
  headers: Record<string, string>,
  tls?: HttpTls,
): Promise<boolean> {
  const where = redactUrl(url);
  let res = await send(url, { method: "HEAD", headers }, where, "checking", tls);
  if (res.status === 405 || res.status === 501) {
    res = await send(url, { headers: { ...headers, range: "bytes=0-0" } }, where, "checking", tls);
    await res.body?.cancel();
  }
  if (res.ok) return true;
  if (res.status === 404 || res.status === 410) return false;
  throw failure(where, "checking", res.status, "");
}

/** DELETE `url`; a 404 counts as deleted. */
export async function httpDelete(url: string, headers: Record<string, string>, tls?: HttpTls): Promise<void> {
  const where = redactUrl(url);
  const res = await send(url, { method: "DELETE", headers }, where, "deleting", tls);
  const detail = res.ok ? "" : await excerpt(res);
  if (res.ok) await res.body?.cancel();
  if (!res.ok && res.status !== 404) throw failure(where, "deleting", res.status, detail);
}
