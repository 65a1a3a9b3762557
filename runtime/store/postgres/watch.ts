import { Client, escapeIdentifier, type Notification } from "pg";
import type { StoreEvent } from "../../interfaces/store.js";
import type { Workflow } from "../../spec/types.js";
import { pause } from "../common.js";
import { WatchListeners } from "../listeners.js";
import type { PostgresContext } from "./context.js";

/** Notification payload on the store's channel. */
interface ChangeNotice {
  t: "put" | "delete" | "logs";
  ns: string;
  n: string;
  rv?: string;
  src: string;
  doc?: Workflow;
}

/**
 * `watch` of the PostgreSQL store, and the notifications log followers wait for. This store's own writes are
 * announced at once (`offer`, `offerDeletion`); every write also sends a NOTIFY on `skiff_<schema>` in its
 * transaction, which one dedicated LISTEN connection receives while someone watches or follows logs.
 */
export class PostgresWatch {
  readonly listeners = new WatchListeners();
  private client: Client | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly ctx: PostgresContext,
    private readonly getWorkflow: (namespace: string, name: string) => Promise<Workflow | undefined>,
  ) {}

  get active(): boolean {
    return this.listeners.size > 0;
  }

  subscribe(listener: (e: StoreEvent) => void): () => void {
    return this.listeners.subscribe(listener, {
      closed: this.ctx.closed,
      start: () => void this.startListening(),
      stop: () => this.stopListening(),
      stillNeeded: () => this.wantsNotifications(),
    });
  }

  wantsNotifications(): boolean {
    return this.listeners.size > 0 || this.ctx.logWakeups.size > 0;
  }

  offer(namespace: string, name: string, doc: Workflow): void {
    const rv = Number(doc.metadata.resourceVersion ?? 0);
    const uid = doc.metadata.uid ?? "";
    this.listeners.offer(`${namespace}\u0000${name}`, { rv, uid }, () => doc);
  }

  offerDeletion(namespace: string, name: string, doc: Workflow): void {
    this.listeners.emitted.delete(`${namespace}\u0000${name}`);
    this.listeners.emit({ type: "delete", workflow: doc });
  }

  /** One dedicated connection LISTENs for the whole store; it reconnects when it is lost. */
  startListening(): Promise<void> {
    if (this.client || this.starting || this.ctx.closed) return this.starting ?? Promise.resolve();
    const { options } = this.ctx;
    this.starting = (async () => {
      const client = new Client({
        connectionString: options.connectionString,
        application_name: `${options.applicationName ?? "skiff"}-listen`,
      });
      client.on("error", () => undefined);
      client.on("end", () => {
        if (this.client !== client) return;
        this.client = undefined;
        if (!this.ctx.closed && this.wantsNotifications()) {
          void pause(200).then(() => this.startListening());
        }
      });
      client.on("notification", (m) => this.onNotification(m));
      try {
        await client.connect();
        await client.query(`LISTEN ${escapeIdentifier(this.ctx.channel)}`);
        if (this.ctx.closed || !this.wantsNotifications()) {
          await client.end().catch(() => undefined);
          return;
        }
        this.client = client;
      } catch {
        await client.end().catch(() => undefined);
        if (!this.ctx.closed && this.wantsNotifications()) void pause(1000).then(() => this.startListening());
      }
    })().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  stopListening(): void {
    const client = this.client;
    this.client = undefined;
    if (client) void client.end().catch(() => undefined);
  }

  /** Drops the listeners and the LISTEN connection, once a connection being opened is settled. */
  async close(): Promise<void> {
    this.listeners.clear();
    this.ctx.logWakeups.wakeAll();
    await this.ctx.settle();
    if (this.starting) await this.starting;
    this.stopListening();
  }

  private onNotification(m: Notification): void {
    let notice: ChangeNotice;
    try {
      notice = JSON.parse(m.payload ?? "") as ChangeNotice;
    } catch {
      return;
    }
    if (notice.t === "logs") {
      this.ctx.logWakeups.wakeAll();
      return;
    }
    if (notice.src === this.ctx.instanceId || !this.active) return;
    if (notice.t === "delete") {
      if (notice.doc) this.offerDeletion(notice.ns, notice.n, notice.doc);
      return;
    }
    const seen = this.listeners.emitted.get(`${notice.ns}\u0000${notice.n}`);
    if (seen && Number(notice.rv) <= seen.rv) return;
    // Fetched rather than sent: documents may exceed NOTIFY's payload limit. Several quick changes may thus
    // arrive as one event with the newest state.
    void this.getWorkflow(notice.ns, notice.n).then(
      (doc) => {
        if (doc && this.active) this.offer(notice.ns, notice.n, doc);
      },
      () => undefined,
    );
  }
}
