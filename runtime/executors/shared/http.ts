import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { readFileSync } from "node:fs";
import { isIPv6 } from "node:net";
import { rootCertificates } from "node:tls";
import { Agent, fetch as undiciFetch } from "undici";
import type { Clock } from "../../interfaces/clock.js";
import type { StepRequest } from "../../interfaces/executor.js";

/** What an HTTP or data step ended with; the executor turns it into a StepResult. */
export interface InlineStepOutcome {
  phase: "Succeeded" | "Failed" | "Error";
  message?: string;
  result?: string;
}

export interface HttpStepOptions {
  clock: Clock;
  /** Aborts the request (kill, deadline). */
  signal?: AbortSignal;
  /** PEM certificates trusted besides the system's roots (a company proxy, a mirror). */
  extraCACerts?: string;
}

/** Kubernetes `hostAliases`: the pod's /etc/hosts entries. */
export interface HostAlias {
  ip: string;
  hostnames: string[];
}

/** Agents by what they are made of, so that steps alike share connections. Bounded: aliases vary by template. */
const agents = new Map<string, Agent>();
const MAX_AGENTS = 32;

/**
 * The dispatcher for a request: undici's global one unless the step needs host aliases, extra CAs or no
 * certificate checks. Aliased hostnames connect to their IP; TLS still checks the certificate (and sends SNI)
 * for the hostname, as with /etc/hosts in a pod.
 */
export function agentFor(options: {
  hostAliases?: HostAlias[];
  extraCACerts?: string;
  insecure?: boolean;
}): Agent | undefined {
  const aliases = new Map<string, string>();
  for (const a of options.hostAliases ?? []) {
    for (const h of a.hostnames) if (!aliases.has(h.toLowerCase())) aliases.set(h.toLowerCase(), a.ip);
  }
  if (!aliases.size && !options.extraCACerts && !options.insecure) return undefined;
  const key = JSON.stringify([[...aliases], options.extraCACerts ?? "", options.insecure === true]);
  let agent = agents.get(key);
  if (agent) return agent;
  const connect: Record<string, unknown> = {};
  if (options.insecure) connect.rejectUnauthorized = false;
  else if (options.extraCACerts) connect.ca = [...defaultCACertificates(), options.extraCACerts];
  if (aliases.size) connect.lookup = aliasLookup(aliases);
  agent = new Agent({ connect });
  if (agents.size >= MAX_AGENTS) {
    const [oldKey, old] = agents.entries().next().value!;
    agents.delete(oldKey);
    void old.close().catch(() => undefined);
  }
  agents.set(key, agent);
  return agent;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

function aliasLookup(aliases: Map<string, string>) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    const ip = aliases.get(hostname.toLowerCase());
    if (ip === undefined) {
      dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
        if (err) callback(err, []);
        else if (options.all) callback(null, addresses);
        else callback(null, addresses[0]?.address ?? "", addresses[0]?.family);
      });
      return;
    }
    const family = isIPv6(ip) ? 6 : 4;
    if (options.all) callback(null, [{ address: ip, family }]);
    else callback(null, ip, family);
  };
}

/** The roots Node trusts by default, NODE_EXTRA_CA_CERTS included (a `ca` option replaces them all). */
function defaultCACertificates(): string[] {
  const out = [...rootCertificates];
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      out.push(readFileSync(extra, "utf8"));
    } catch {
      // Node ignores an unreadable file too.
    }
  }
  return out;
}

/**
 * Runs an `http` template (§4.13) as Argo's agent does: success is a 2xx status, or `successCondition`
 * evaluated over `request` and `response`; the result is the response body.
 */
export async function runHttpStep(
  request: StepRequest,
  options: HttpStepOptions,
): Promise<InlineStepOutcome> {
  const h = request.template.http;
  if (!h) return { phase: "Error", message: "template has no http block" };
  const method = (h.method ?? "GET").toUpperCase();
  const headers: Record<string, string> = {};
  const headerMap: Record<string, string[]> = {};
  for (const x of h.headers ?? []) {
    const v = x.value ?? "";
    headers[x.name] = v;
    (headerMap[canonicalHeader(x.name)] ??= []).push(v);
  }
  const body =
    h.body ??
    (h.bodyFrom?.bytes !== undefined ? Buffer.from(h.bodyFrom.bytes, "base64").toString("utf8") : undefined);

  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer =
    h.timeoutSeconds !== undefined && h.timeoutSeconds > 0
      ? options.clock.setTimer(h.timeoutSeconds * 1000, () => {
          timedOut = true;
          controller.abort(new Error("timeout"));
        })
      : undefined;
  const goMethod = method.charAt(0) + method.slice(1).toLowerCase();
  try {
    const dispatcher = agentFor({
      hostAliases: (request.template.hostAliases ?? []) as unknown as HostAlias[],
      ...(options.extraCACerts ? { extraCACerts: options.extraCACerts } : {}),
      insecure: h.insecureSkipVerify === true,
    });
    const res = await undiciFetch(h.url, {
      method,
      headers,
      ...(body !== undefined && method !== "GET" && method !== "HEAD" ? { body } : {}),
      signal: controller.signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const text = await res.text();
    const responseHeaders: Record<string, string[]> = {};
    res.headers.forEach((v, k) => {
      (responseHeaders[canonicalHeader(k)] ??= []).push(v);
    });
    if (h.successCondition) {
      const env = {
        request: { method, url: h.url, body: body ?? "", headers: headerMap },
        response: { statusCode: res.status, body: text, headers: responseHeaders },
      };
      let ok: unknown;
      try {
        ok = request.evaluate(h.successCondition, env);
      } catch (e) {
        return { phase: "Failed", message: (e as Error).message, result: text };
      }
      if (ok !== true) {
        return {
          phase: "Failed",
          message: `successCondition '${h.successCondition}' evaluated false`,
          result: text,
        };
      }
      return { phase: "Succeeded", result: text };
    }
    if (res.status < 200 || res.status >= 300) {
      return { phase: "Failed", message: `received non-2xx response code: ${res.status}`, result: text };
    }
    return { phase: "Succeeded", result: text };
  } catch (e) {
    if (timedOut) {
      return {
        phase: "Failed",
        message: `${goMethod} "${h.url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
      };
    }
    return { phase: "Failed", message: `${goMethod} "${h.url}": ${goNetError(e, h.url)}` };
  } finally {
    if (timer) options.clock.clearTimer(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** Go's `http.CanonicalHeaderKey`: `content-type` -> `Content-Type`. */
export function canonicalHeader(name: string): string {
  return name
    .split("-")
    .map((p) => (p ? p[0]!.toUpperCase() + p.slice(1).toLowerCase() : p))
    .join("-");
}

/** Go's wording for common connection errors, which Argo's messages carry; other errors keep their own text. */
function goNetError(e: unknown, url: string): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  let host = "";
  try {
    const u = new URL(url);
    host = u.port ? u.host : `${u.hostname}:${u.protocol === "https:" ? 443 : 80}`;
  } catch {
    // keep the raw message
  }
  switch (cause?.code) {
    case "ENOTFOUND":
      return `dial tcp: lookup ${host.replace(/:\d+$/, "")}: no such host`;
    case "ECONNREFUSED":
      return `dial tcp ${host}: connect: connection refused`;
    case "ECONNRESET":
      return `read tcp ${host}: connection reset by peer`;
    default:
      return cause?.message ?? (e as Error).message;
  }
}
