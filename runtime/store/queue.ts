/**
 * Serializes the writes of each key (one workflow, one log) while letting writes of different keys run
 * concurrently. Writes marked `coalesce` that wait together behind a running write collapse into the newest
 * one (`merge` combines their payloads); every caller's promise settles when the write that carried its
 * change is durable.
 */
export class KeyedWriteQueue<T> {
  private readonly queues = new Map<string, Pending<T>[]>();

  constructor(
    private readonly write: (key: string, payload: T) => Promise<void>,
    private readonly merge: (older: T, newer: T) => T = (_older, newer) => newer,
  ) {}

  push(key: string, payload: T, coalesce: boolean): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let queue = this.queues.get(key);
      const start = !queue;
      if (!queue) {
        queue = [];
        this.queues.set(key, queue);
      }
      queue.push({ payload, coalesce, resolve, reject });
      if (start) void this.drain(key, queue);
    });
  }

  private async drain(key: string, queue: Pending<T>[]): Promise<void> {
    while (queue.length > 0) {
      let count = 1;
      if (queue[0]!.coalesce) while (count < queue.length && queue[count]!.coalesce) count++;
      const batch = queue.splice(0, count);
      let payload = batch[0]!.payload;
      for (const b of batch.slice(1)) payload = this.merge(payload, b.payload);
      try {
        await this.write(key, payload);
        for (const b of batch) b.resolve();
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.queues.delete(key);
  }
}

interface Pending<T> {
  payload: T;
  coalesce: boolean;
  resolve(): void;
  reject(e: unknown): void;
}
