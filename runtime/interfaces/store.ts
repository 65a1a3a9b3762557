import type { Workflow } from "../spec/types.js";

export interface WorkflowQuery {
  namespace?: string;
  phases?: string[];
  labelSelector?: Record<string, string>;
  namePrefix?: string;
  limit?: number;
}

export type StoreEvent = { type: "put" | "delete"; workflow: Workflow };

/** Persists workflows (spec + status). Writes are atomic: a reader sees the old or the new object. */
export interface Store {
  put(workflow: Workflow): Promise<void>;
  get(namespace: string, name: string): Promise<Workflow | undefined>;
  list(query?: WorkflowQuery): Promise<Workflow[]>;
  delete(namespace: string, name: string): Promise<void>;
  watch(listener: (e: StoreEvent) => void): () => void;
  close(): Promise<void>;
}
