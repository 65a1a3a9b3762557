import { SkiffError } from "../errors/index.js";
import type { Lease } from "../interfaces/store.js";
import { STORE_CODES } from "./codes.js";

/**
 * The lease rules every backend applies (the embedded store in code, PostgreSQL in the `WHERE` of one
 * upsert): `acquireLease` wins unless another owner holds an unexpired lease; `renewLease` wins unless another
 * owner holds the lease, expired or not (a lease that expired and was taken by someone else is lost).
 */

/** Validates the arguments of the lease methods. */
export function checkLeaseArgs(owner: string, ttlMs: number, now: number): void {
  if (!owner) throw new SkiffError(STORE_CODES["SKF-STORE-008"], "a lease needs a non-empty owner");
  if (!Number.isFinite(ttlMs) || ttlMs <= 0 || !Number.isFinite(now)) {
    throw new SkiffError(STORE_CODES["SKF-STORE-008"], `invalid lease time: ttlMs=${ttlMs}, now=${now}`);
  }
}

/** The lease after `acquireLease`, or undefined when another owner keeps it. */
export function acquiredLease(
  current: Lease | undefined,
  owner: string,
  ttlMs: number,
  now: number,
): Lease | undefined {
  if (current && current.owner !== owner && current.expiresAt > now) return undefined;
  return { owner, expiresAt: now + ttlMs };
}

/** The lease after `renewLease`, or undefined when it was lost to another owner. */
export function renewedLease(
  current: Lease | undefined,
  owner: string,
  ttlMs: number,
  now: number,
): Lease | undefined {
  if (current && current.owner !== owner) return undefined;
  return { owner, expiresAt: now + ttlMs };
}
