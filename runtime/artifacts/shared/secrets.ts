import { createHash } from "node:crypto";
import type { Secret, SecretKeySelector } from "../../spec/types.js";
import { SkiffError } from "../../errors/index.js";
import { ARTD_CODES } from "./codes.js";

/** Finds a Secret manifest by name; the drivers read credentials through it. */
export type SecretLookup = (name: string) => Secret | undefined;

/** A Secret key selector as Argo's artifact blocks carry it (`{ name, key }`). */
export function isSecretKeySelector(v: unknown): v is SecretKeySelector {
  return (
    typeof v === "object" &&
    v !== null &&
    typeof (v as SecretKeySelector).name === "string" &&
    typeof (v as SecretKeySelector).key === "string"
  );
}

/**
 * The value a selector points at, as Kubernetes gives it to a pod: `stringData` wins over `data` (base64), as the
 * API server merges them. Returns undefined for an `optional` selector whose Secret or key is absent. The value
 * never appears in an error message.
 */
export function readSecretValue(
  secrets: SecretLookup | undefined,
  selector: SecretKeySelector,
  field: string,
): string | undefined {
  const secret = secrets?.(selector.name);
  if (!secret) {
    if (selector.optional) return undefined;
    throw new SkiffError(ARTD_CODES["SKF-ARTD-001"], `${field}: Secret '${selector.name}' was not found`);
  }
  const plain = secret.stringData?.[selector.key];
  if (plain !== undefined) return plain;
  const encoded = secret.data?.[selector.key];
  if (encoded !== undefined) return Buffer.from(encoded, "base64").toString("utf8");
  if (selector.optional) return undefined;
  throw new SkiffError(
    ARTD_CODES["SKF-ARTD-002"],
    `${field}: Secret '${selector.name}' has no key '${selector.key}'`,
  );
}

/** Reads `block[field]` as a Secret selector when present; undefined when the block does not name one. */
export function readSecretField(
  secrets: SecretLookup | undefined,
  block: Record<string, unknown>,
  field: string,
  where: string,
): string | undefined {
  const selector = block[field];
  if (selector === undefined || selector === null) return undefined;
  if (!isSecretKeySelector(selector)) {
    throw new SkiffError(
      ARTD_CODES["SKF-ARTD-004"],
      `${where}.${field} must name a Secret with 'name' and 'key'`,
    );
  }
  return readSecretValue(secrets, selector, `${where}.${field}`);
}

/**
 * A stable digest of credential values, for caching clients per credential set without keeping the values
 * themselves as map keys.
 */
export function fingerprint(...values: (string | undefined)[]): string {
  const h = createHash("sha256");
  for (const v of values) h.update(v === undefined ? "\u0000u" : `\u0001${v}\u0000`);
  return h.digest("hex").slice(0, 32);
}
