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
}

let insecureAgent: Agent | undefined;

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
    if (h.insecureSkipVerify) insecureAgent ??= new Agent({ connect: { rejectUnauthorized: false } });
    const res = await undiciFetch(h.url, {
      method,
      headers,
      ...(body !== undefined && method !== "GET" && method !== "HEAD" ? { body } : {}),
      signal: controller.signal,
      ...(h.insecureSkipVerify ? { dispatcher: insecureAgent } : {}),
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
