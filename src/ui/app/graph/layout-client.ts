// Chooses where a layout runs: inline for small graphs, in a Web Worker above WORKER_THRESHOLD nodes.
import { layoutGraph, type LayoutInput, type LayoutResult } from "./layout.js";

export const WORKER_THRESHOLD = 300;

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, { resolve: (r: LayoutResult) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL("ui-assets/layout-worker.js", document.baseURI), { type: "module" });
    worker.onmessage = (event: MessageEvent<{ id: number; result?: LayoutResult; error?: string }>) => {
      const p = pending.get(event.data.id);
      pending.delete(event.data.id);
      if (event.data.result) p?.resolve(event.data.result);
      else p?.reject(new Error(event.data.error ?? "layout failed"));
    };
  }
  return worker;
}

export function layout(input: LayoutInput): Promise<LayoutResult> {
  if (input.nodes.length <= WORKER_THRESHOLD || typeof Worker === "undefined") return layoutGraph(input);
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ id, input });
  });
}
