import { describe, expect, it } from "vitest";
import { ServerMetrics } from "../../../src/server/metrics.js";

describe("server metrics", () => {
  it("drops a custom metric's series once it was not updated for metricsTTL", async () => {
    const metrics = new ServerMetrics(() => 2, 60_000);
    try {
      const problems = metrics.custom.emitCustom(
        [
          {
            name: "deploys",
            help: "Deploys",
            labels: [{ key: "env", value: "prod" }],
            counter: { value: "1" },
          },
        ],
        new Map(),
        {},
        "end",
      );
      expect(problems).toEqual([]);
      const before = await metrics.exposition();
      expect(before).toContain('argo_workflows_deploys{env="prod"} 1');
      expect(before).toContain('argo_workflows_workers_busy_count{worker_type="workflow_queue"} 2');
      metrics.dropExpired(Date.now() + 30_000);
      expect(await metrics.exposition()).toContain('argo_workflows_deploys{env="prod"} 1');
      metrics.dropExpired(Date.now() + 61_000);
      expect(await metrics.exposition()).not.toContain('argo_workflows_deploys{env="prod"}');
    } finally {
      metrics.close();
    }
  });

  it("counts workflows taken but not started as the workflow queue's depth", async () => {
    const metrics = new ServerMetrics(() => 0);
    metrics.queued(1);
    metrics.queued(1);
    metrics.queued(-1);
    metrics.queueLatency(0.2);
    const text = await metrics.exposition();
    expect(text).toContain('argo_workflows_queue_depth_gauge{queue_name="workflow_queue"} 1');
    expect(text).toContain('argo_workflows_queue_adds_count{queue_name="workflow_queue"} 2');
    expect(text).toContain('argo_workflows_queue_latency_count{queue_name="workflow_queue"} 1');
    metrics.close();
  });
});
