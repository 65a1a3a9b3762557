/**
 * Examples whose final phase differs from Argo's on the host executor, each with its reason. Every entry
 * is also listed in docs/conformance.md; the conformance test fails when one starts matching, so this
 * list cannot go stale.
 */
export const KNOWN_MISMATCHES: Record<string, string> = {};
