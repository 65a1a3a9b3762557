import { Counter, Gauge, Histogram } from "prom-client";
import type { ControllerEvent } from "../../runtime/interfaces/events.js";
import type { MetricsSink, PrometheusMetric, RealtimeScope } from "../../runtime/interfaces/metrics.js";
import { METRIC_PREFIX, MetricsRegistry } from "../../runtime/metrics/index.js";
import { VERSION } from "../version.js";

const QUEUE = "workflow_queue";

/**
 * The server's `/metrics`: Argo's built-in controller metrics (`argo_workflows_*`, the names of Argo's
 * metrics list) and the custom metrics of every workflow it runs, in one registry. `metricsTTL` drops a
 * custom metric's series once none of them was updated for that long (realtime gauges while their
 * workflow runs are kept).
 */
export class ServerMetrics {
  readonly runs = new MetricsRegistry();
  private readonly pods = new Map<string, string>();
  private readonly lastEmitted = new Map<string, number>();
  private readonly queueDepth: Gauge;
  private readonly queueLatencyHistogram: Histogram;
  private readonly operationDuration: Histogram;
  private readonly errors: Counter;
  private readonly queueAdds: Counter;
  private gcTimer: NodeJS.Timeout | undefined;

  constructor(
    running: () => number,
    private readonly metricsTTLMs = 0,
  ) {
    const registers = [this.runs.registry];
    const pods = this.pods;
    new Gauge({
      name: `${METRIC_PREFIX}pods_gauge`,
      help: "Number of Pods from workflows currently accessible by the controller by phase",
      labelNames: ["phase"],
      registers,
      collect() {
        this.reset();
        const counts = new Map<string, number>([
          ["Pending", 0],
          ["Running", 0],
        ]);
        for (const phase of pods.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
        for (const [phase, n] of counts) this.set({ phase }, n);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}workers_busy_count`,
      help: "Number of workers currently busy",
      labelNames: ["worker_type"],
      registers,
      collect() {
        this.set({ worker_type: QUEUE }, running());
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}is_leader`,
      help: "Emits 1 if leader, 0 otherwise",
      registers,
      collect() {
        // Every server runs workflows (leases, not leader election, keep them apart).
        this.set(1);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}version`,
      help: "Build metadata for this Controller",
      labelNames: [
        "version",
        "platform",
        "go_version",
        "build_date",
        "compiler",
        "git_commit",
        "git_tree_state",
        "git_tag",
      ],
      registers,
    }).set(
      {
        version: VERSION,
        platform: `${process.platform}/${process.arch}`,
        go_version: process.version,
        build_date: "",
        compiler: "node",
        git_commit: "",
        git_tree_state: "",
        git_tag: `v${VERSION}`,
      },
      1,
    );
    this.queueDepth = new Gauge({
      name: `${METRIC_PREFIX}queue_depth_gauge`,
      help: "Depth of the queue",
      labelNames: ["queue_name"],
      registers,
    });
    this.queueDepth.set({ queue_name: QUEUE }, 0);
    this.queueAdds = new Counter({
      name: `${METRIC_PREFIX}queue_adds_count`,
      help: "Adds to the queue",
      labelNames: ["queue_name"],
      registers,
    });
    this.queueLatencyHistogram = new Histogram({
      name: `${METRIC_PREFIX}queue_latency`,
      help: "Time objects spend waiting in the queue, in seconds",
      labelNames: ["queue_name"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.operationDuration = new Histogram({
      name: `${METRIC_PREFIX}operation_duration_seconds`,
      help: "Histogram of durations of operations, in seconds",
      buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 1800],
      registers,
    });
    this.errors = new Counter({
      name: `${METRIC_PREFIX}error_count`,
      help: "Number of errors encountered by the controller by cause",
      labelNames: ["cause"],
      registers,
    });
    if (metricsTTLMs > 0) {
      this.gcTimer = setInterval(() => this.dropExpired(), Math.min(metricsTTLMs, 60_000));
      this.gcTimer.unref();
    }
  }

  /** The sink the controller emits custom metrics to; it notes when each family was last updated. */
  readonly custom: MetricsSink = {
    emitCustom: (
      definitions: readonly PrometheusMetric[],
      vars: ReadonlyMap<string, string | null>,
      realtime: RealtimeScope,
      moment: "start" | "end",
    ) => {
      const now = Date.now();
      for (const d of definitions) if (!d.gauge?.realtime) this.lastEmitted.set(METRIC_PREFIX + d.name, now);
      return this.runs.emitCustom(definitions, vars, realtime, moment);
    },
  };

  /** Feeds the built-in metrics from a run's controller event. */
  observe(e: ControllerEvent): void {
    this.runs.observe(e);
    if (e.type === "node-updated" && (e.node.type === "Pod" || e.node.type === "HTTP")) {
      const key = `${e.workflow.metadata.namespace}/${e.workflow.metadata.name}/${e.node.id}`;
      if (e.node.phase === "Pending" || e.node.phase === "Running") this.pods.set(key, e.node.phase);
      else this.pods.delete(key);
    }
  }

  /** A workflow entered (+1) or left (-1) the queue of workflows taken but not started. */
  queued(delta: 1 | -1): void {
    this.queueDepth.inc({ queue_name: QUEUE }, delta);
    if (delta > 0) this.queueAdds.inc({ queue_name: QUEUE });
  }

  queueLatency(seconds: number): void {
    this.queueLatencyHistogram.observe({ queue_name: QUEUE }, seconds);
  }

  /** One run's operation (from taken to completed or handed back). */
  operation(seconds: number): void {
    this.operationDuration.observe(seconds);
  }

  error(cause: string): void {
    this.errors.inc({ cause });
  }

  /** A run ended: its pods no longer count. */
  forget(namespace: string, name: string): void {
    const prefix = `${namespace}/${name}/`;
    for (const key of this.pods.keys()) if (key.startsWith(prefix)) this.pods.delete(key);
  }

  exposition(): Promise<string> {
    return this.runs.exposition();
  }

  get contentType(): string {
    return this.runs.contentType;
  }

  /** Drops the custom metrics not updated within `metricsTTL`. */
  dropExpired(now = Date.now()): void {
    for (const [name, at] of this.lastEmitted) {
      if (now - at < this.metricsTTLMs) continue;
      this.runs.registry.getSingleMetric(name)?.reset();
      this.lastEmitted.delete(name);
    }
  }

  close(): void {
    if (this.gcTimer) clearInterval(this.gcTimer);
  }
}
