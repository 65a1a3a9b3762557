import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { SkiffError } from "../../runtime/errors/index.js";
import type { ServerConfig } from "../config/index.js";
import { ApiError, GRPC } from "./http.js";

/**
 * Argo's `--auth-mode`: `server` lets every caller act as the server (local use); `token` (Skiff's default,
 * in place of Argo's `client`, which asks Kubernetes) accepts the bearer tokens of the config.
 */
export type AuthMode = "server" | "token";

/** What a caller may do. */
export type Access = "read" | "write";

/** Checks callers against the configured tokens. */
export interface Gatekeeper {
  readonly mode: AuthMode;
  /** The caller's access; throws Argo's 401 when it has none, 403 when `needed` is more than it has. */
  authorize(req: IncomingMessage, needed: Access): Access;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Resolves the config's tokens (`token`, `tokenFile`, `tokenEnv`); `SKF-SRV-001` naming the one missing. */
export async function loadTokens(
  config: ServerConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ token: string; access: Access }[]> {
  const out: { token: string; access: Access }[] = [];
  for (const [i, t] of (config?.tokens ?? []).entries()) {
    let token = t.token;
    if (t.tokenFile) {
      try {
        token = (await readFile(t.tokenFile, "utf8")).trim();
      } catch (e) {
        throw new SkiffError(
          "SKF-SRV-001",
          `server.tokens[${i}].tokenFile ${t.tokenFile} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
          { position: { file: t.tokenFile }, path: `server.tokens.${i}.tokenFile` },
        );
      }
    }
    if (t.tokenEnv) {
      token = env[t.tokenEnv];
      if (!token)
        throw new SkiffError("SKF-SRV-001", `server.tokens[${i}].tokenEnv ${t.tokenEnv} is not set`, {
          path: `server.tokens.${i}.tokenEnv`,
        });
    }
    if (!token)
      throw new SkiffError("SKF-SRV-001", `server.tokens[${i}] is empty`, { path: `server.tokens.${i}` });
    out.push({ token, access: t.access });
  }
  return out;
}

/** The bearer token of a request: the `Authorization` header, else an `authorization` cookie (Argo's UI). */
function bearerOf(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const fromCookie = () => {
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === "authorization") return decodeURIComponent(v.join("="));
    }
    return undefined;
  };
  const value = header ?? fromCookie();
  const m = value ? /^Bearer\s+(.+)$/i.exec(value.trim()) : null;
  return m?.[1];
}

/** Argo's answer to a caller without valid credentials. */
export const UNAUTHENTICATED = "token not valid. see https://argo-workflows.readthedocs.io/en/latest/faq/";

export function createGatekeeper(
  mode: AuthMode,
  tokens: readonly { token: string; access: Access }[],
): Gatekeeper {
  const known = tokens.map((t) => ({ hash: digest(t.token), access: t.access }));
  return {
    mode,
    authorize(req, needed) {
      if (mode === "server") return "write";
      const token = bearerOf(req);
      // Compared by digest in constant time: a wrong token tells nothing of the right one.
      const hash = token === undefined ? undefined : digest(token);
      const found = hash ? known.find((k) => timingSafeEqual(k.hash, hash)) : undefined;
      if (!found) throw new ApiError(GRPC.Unauthenticated, UNAUTHENTICATED);
      if (needed === "write" && found.access !== "write")
        throw new ApiError(GRPC.PermissionDenied, "Permission denied: this token may only read");
      return found.access;
    },
  };
}
