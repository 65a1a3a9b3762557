import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { SkiffError } from "../errors/index.js";
import { evaluateWhen, substitute, substituteObject } from "../expr/index.js";
import type { ControllerEvent, ControllerEventListener } from "../interfaces/events.js";
import type { MetricsSink, PrometheusMetric, RealtimeScope } from "../interfaces/metrics.js";
import type { NodeStatus, Workflow } from "../spec/types.js";
import { METRIC_CODES } from "./codes.js";
import {
  kindOf,
  parseBuckets,
  parseMetricValue,
  validateMetricDefinitions,
  type MetricKind,
} from "./custom.js";

const C = METRIC_CODES;

/** Argo's Prometheus exporter prefixes every metric name, custom ones included, with this. */
export const METRIC_PREFIX = "argo_workflows_";

/** Built-in run metrics (Argo's names where Argo has the metric). */
export const BUILTIN_METRICS = {
  /** Workflows currently in each phase (Argo's `gauge`). */
  workflowsByPhase: `${METRIC_PREFIX}gauge`,
  /** Workflows that entered each phase (Argo's `total_count`). */
  workflowPhaseTotal: `${METRIC_PREFIX}total_count`,
  /** Pods (step nodes) that entered each phase (Argo's `pods_total_count`). */
  podPhaseTotal: `${METRIC_PREFIX}pods_total_count`,
  /** `workflowTemplateRef` runs entering each phase (Argo's `workflowtemplate_triggered_total`). */
  workflowTemplateTriggered: `${METRIC_PREFIX}workflowtemplate_triggered_total`,
  /** Run time of `workflowTemplateRef` runs (Argo's `workflowtemplate_runtime`). */
  workflowTemplateRuntime: `${METRIC_PREFIX}workflowtemplate_runtime`,
  /** How long steps ran, by template and final phase. Argo has no such metric: Skiff's own name. */
  stepDuration: "skiff_step_duration_seconds",
} as const;

const WORKFLOW_PHASES = ["Pending", "Running", "Succeeded", "Failed", "Error"] as const;
/** Buckets of the duration histograms, in seconds: from sub-second steps to hour-long runs. */
const DURATION_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

type Labels = Record<string, string>;

/** One metric name: its type, help, label keys and buckets are fixed by its first definition. */
interface Family {
  kind: MetricKind;
  help: string;
  labelKeys: string[];
  buckets?: number[];
  metric: Counter | Gauge | Histogram;
  /** Realtime gauge series: read when the metrics are exposed. */
  realtime: Map<string, { labels: Labels; read: () => number }>;
}

/**
 * A Prometheus registry for one or more runs: Argo's custom metrics (`spec.metrics`, template `metrics`), which
 * the controller emits through `emitCustom` (it is the `MetricsSink` of `ControllerOptions.metrics`), and
 * built-in run metrics fed by controller events through `observe`. `exposition()` renders the Prometheus text
 * format.
 */
export class MetricsRegistry implements MetricsSink {
  readonly registry = new Registry();
  /** Every problem `emitCustom` reported, in order (also returned to the controller). */
  readonly problems: string[] = [];
  private readonly families = new Map<string, Family>();
  private readonly workflowPhases = new Map<string, string>();
  private readonly podPhases = new Map<string, string>();
  private readonly builtins: {
    phaseTotal: Counter;
    podTotal: Counter;
    wftTriggered: Counter;
    wftRuntime: Histogram;
    stepDuration: Histogram;
  };

  constructor() {
    const registers = [this.registry];
    new Gauge({
      name: BUILTIN_METRICS.workflowsByPhase,
      help: "Number of workflows currently in each phase",
      labelNames: ["phase"],
      registers,
      collect: () => this.collectWorkflowGauge(),
    });
    this.builtins = {
      phaseTotal: new Counter({
        name: BUILTIN_METRICS.workflowPhaseTotal,
        help: "Total number of workflows that entered each phase",
        labelNames: ["phase", "namespace"],
        registers,
      }),
      podTotal: new Counter({
        name: BUILTIN_METRICS.podPhaseTotal,
        help: "Total number of pods that entered each phase",
        labelNames: ["phase", "namespace"],
        registers,
      }),
      wftTriggered: new Counter({
        name: BUILTIN_METRICS.workflowTemplateTriggered,
        help: "Total number of workflows using workflowTemplateRef that entered each phase",
        labelNames: ["name", "namespace", "cluster_scope", "phase"],
        registers,
      }),
      wftRuntime: new Histogram({
        name: BUILTIN_METRICS.workflowTemplateRuntime,
        help: "Run time of workflows using workflowTemplateRef, from Running to completion, in seconds",
        labelNames: ["name", "namespace", "cluster_scope"],
        buckets: DURATION_BUCKETS,
        registers,
      }),
      stepDuration: new Histogram({
        name: BUILTIN_METRICS.stepDuration,
        help: "Duration of steps (pod nodes) from start to end, in seconds, by template and final phase",
        labelNames: ["namespace", "template", "phase"],
        buckets: DURATION_BUCKETS,
        registers,
      }),
    };
  }

  /** The Prometheus text exposition of every metric. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  /** `Content-Type` of `exposition()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** A controller event listener feeding the built-in metrics. */
  listener(): ControllerEventListener {
    return (event) => this.observe(event);
  }

  // ---------------------------------------------------------------- custom metrics

  emitCustom(
    definitions: readonly PrometheusMetric[],
    vars: ReadonlyMap<string, string | null>,
    realtime: RealtimeScope,
    moment: "start" | "end",
  ): string[] {
    const problems: string[] = [];
    for (const raw of definitions) {
      const isRealtime = raw.gauge?.realtime === true;
      // Argo: realtime gauges start with the node, the others are computed once it completed.
      if ((moment === "start") !== isRealtime) continue;
      try {
        if (raw.when && !evaluateWhen(substitute(raw.when, vars))) continue;
        if (isRealtime) this.emitRealtime(raw, vars, realtime);
        else this.update(substituteObject(raw, vars));
      } catch (e) {
        const message = e instanceof SkiffError ? `${e.code}: ${e.message}` : String(e);
        problems.push(message);
      }
    }
    this.problems.push(...problems);
    return problems;
  }

  private emitRealtime(
    raw: PrometheusMetric,
    vars: ReadonlyMap<string, string | null>,
    scope: RealtimeScope,
  ) {
    const value = (raw.gauge?.value ?? "").trim();
    if (!value.startsWith("{{") || !value.endsWith("}}")) {
      throw new SkiffError(
        C["SKF-METRIC-005"],
        `metric '${raw.name}': real time metrics can only be used with metric variables`,
      );
    }
    const key = value.slice(2, -2).trim();
    const read = scope[key];
    if (!read) {
      throw new SkiffError(
        C["SKF-METRIC-005"],
        `metric '${raw.name}': '${key}' is not available as a real time metric`,
      );
    }
    const def = substituteObject({ ...raw, gauge: { ...raw.gauge, value: "0" } }, vars);
    const { family, labels } = this.familyFor(def);
    family.realtime.set(seriesKey(labels), { labels, read });
  }

  /** Applies one substituted, non-realtime definition. */
  private update(def: PrometheusMetric): void {
    const name = def.name;
    // Parsed before the family exists, so a bad value does not leave an empty metric behind.
    const kind = kindOf(def);
    const text = (kind === "gauge" ? def.gauge : kind === "counter" ? def.counter : def.histogram)?.value;
    const value = parseMetricValue(name, text ?? "");
    const { family, labels } = this.familyFor(def);
    switch (family.kind) {
      case "gauge": {
        const gauge = family.metric as Gauge;
        const op = def.gauge?.operation || "Set";
        if (op === "Add") gauge.inc(labels, value);
        else if (op === "Sub") gauge.dec(labels, value);
        else gauge.set(labels, value);
        // A value set now replaces what a realtime series of the same labels reported.
        family.realtime.delete(seriesKey(labels));
        break;
      }
      case "counter": {
        if (!(value >= 0)) {
          throw new SkiffError(
            C["SKF-METRIC-005"],
            `metric '${name}': a counter can only increase, got ${def.counter?.value ?? ""}`,
          );
        }
        (family.metric as Counter).inc(labels, value);
        break;
      }
      case "histogram":
        (family.metric as Histogram).observe(labels, value);
        break;
    }
  }

  /** The family of a definition (created on first use) and its label values; throws on an invalid or clashing one. */
  private familyFor(def: PrometheusMetric): { family: Family; labels: Labels } {
    const invalid = validateMetricDefinitions([def], "workflow");
    if (invalid[0]) throw invalid[0];
    const kind = kindOf(def) as MetricKind;
    const labels: Labels = {};
    const sorted = [...(def.labels ?? [])].sort((a, b) => a.key.localeCompare(b.key));
    for (const l of sorted) labels[l.key] = String(l.value);
    const labelKeys = Object.keys(labels);
    const buckets = def.histogram ? parseBuckets(def.name, def.histogram.buckets) : undefined;
    const fullName = METRIC_PREFIX + def.name;
    const builtin = (Object.values(BUILTIN_METRICS) as string[]).includes(fullName);
    const existing = this.families.get(fullName);
    if (builtin) {
      throw new SkiffError(C["SKF-METRIC-004"], `metric '${def.name}' is the name of a built-in metric`);
    }
    if (existing) {
      const why =
        existing.kind !== kind
          ? `it is a ${existing.kind}, not a ${kind}`
          : existing.help !== def.help
            ? `its help is '${existing.help}'`
            : existing.labelKeys.join(",") !== labelKeys.join(",")
              ? `its labels are [${existing.labelKeys.join(", ")}]`
              : buckets && existing.buckets?.join(",") !== buckets.join(",")
                ? `its buckets are [${existing.buckets?.join(", ") ?? ""}]`
                : undefined;
      if (why) {
        throw new SkiffError(
          C["SKF-METRIC-004"],
          `metric '${def.name}' was defined differently before: ${why}`,
        );
      }
      return { family: existing, labels };
    }
    const registers = [this.registry];
    const family: Family = {
      kind,
      help: def.help,
      labelKeys,
      realtime: new Map(),
      metric: undefined as unknown as Counter,
    };
    if (buckets) family.buckets = buckets;
    const common = { name: fullName, help: def.help, labelNames: labelKeys, registers };
    family.metric =
      kind === "counter"
        ? new Counter(common)
        : kind === "histogram"
          ? new Histogram({ ...common, buckets: buckets ?? [] })
          : new Gauge({
              ...common,
              collect: () => {
                for (const s of family.realtime.values()) (family.metric as Gauge).set(s.labels, s.read());
              },
            });
    this.families.set(fullName, family);
    return { family, labels };
  }

  // ---------------------------------------------------------------- built-in metrics

  /** Feeds the built-in metrics from one controller event. */
  observe(event: ControllerEvent): void {
    switch (event.type) {
      case "workflow-started":
      case "workflow-updated":
      case "workflow-finished":
        this.observeWorkflow(event.workflow, event.type === "workflow-finished");
        break;
      case "node-updated":
        this.observeNode(event.workflow, event.node);
        break;
      default:
        break;
    }
  }

  private observeWorkflow(wf: Workflow, finished: boolean): void {
    const phase = wf.status?.phase;
    if (!phase) return;
    const namespace = wf.metadata.namespace ?? "default";
    const key = `${namespace}/${wf.metadata.name ?? ""}`;
    if (this.workflowPhases.get(key) === phase) return;
    this.workflowPhases.set(key, phase);
    this.builtins.phaseTotal.inc({ phase, namespace });
    const ref = wf.spec.workflowTemplateRef;
    if (!ref) return;
    const refLabels = { name: ref.name, namespace, cluster_scope: String(ref.clusterScope === true) };
    this.builtins.wftTriggered.inc({ ...refLabels, phase });
    const started = Date.parse(wf.status?.startedAt ?? "");
    const ended = Date.parse(wf.status?.finishedAt ?? "");
    if (finished && Number.isFinite(started) && Number.isFinite(ended)) {
      this.builtins.wftRuntime.observe(refLabels, (ended - started) / 1000);
    }
  }

  private observeNode(wf: Workflow, node: NodeStatus): void {
    if (node.type !== "Pod" && node.type !== "HTTP") return;
    const namespace = wf.metadata.namespace ?? "default";
    const key = `${namespace}/${wf.metadata.name ?? ""}/${node.id}`;
    if (this.podPhases.get(key) === node.phase) return;
    this.podPhases.set(key, node.phase);
    this.builtins.podTotal.inc({ phase: node.phase, namespace });
    const done = node.phase === "Succeeded" || node.phase === "Failed" || node.phase === "Error";
    const started = Date.parse(node.startedAt ?? "");
    const ended = Date.parse(node.finishedAt ?? "");
    if (done && Number.isFinite(started) && Number.isFinite(ended)) {
      this.builtins.stepDuration.observe(
        { namespace, template: node.templateName ?? node.templateRef?.template ?? "", phase: node.phase },
        (ended - started) / 1000,
      );
    }
  }

  private collectWorkflowGauge(): void {
    const gauge = this.registry.getSingleMetric(BUILTIN_METRICS.workflowsByPhase) as Gauge | undefined;
    if (!gauge) return;
    const counts = new Map<string, number>(WORKFLOW_PHASES.map((p) => [p, 0]));
    for (const phase of this.workflowPhases.values()) counts.set(phase, (counts.get(phase) ?? 0) + 1);
    for (const [phase, n] of counts) gauge.set({ phase }, n);
  }
}

function seriesKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}
