// Every layout runs in a Web Worker (layout-worker.ts): elkjs (about 1.5 MB of code) is then never loaded
// on the main thread, and laying out a large graph cannot freeze the tab.
import type { LayoutInput, LayoutResult } from "./layout.js";

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
    worker.onerror = (event) => {
      for (const p of pending.values()) p.reject(new Error(`layout worker failed: ${event.message}`));
      pending.clear();
      worker = undefined;
    };
  }
  return worker;
}

export function layout(input: LayoutInput): Promise<LayoutResult> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    getWorker().postMessage({ id, input });
  });
}

/** Starts the worker ahead of the first layout, so that elkjs is loaded by the time a graph needs it. */
export function warmUpLayout(): void {
  if (typeof Worker !== "undefined") getWorker();
}
