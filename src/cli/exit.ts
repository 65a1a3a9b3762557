/** Exit codes shared by every command. */
export const EXIT = { ok: 0, failed: 1, rejected: 2 } as const;
