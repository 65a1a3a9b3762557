// The layout of large graphs runs here, off the main thread, so the page stays responsive meanwhile.
import { layoutGraph, type LayoutInput } from "./layout.js";

const scope = self as unknown as {
  onmessage: ((event: MessageEvent<{ id: number; input: LayoutInput }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event) => {
  const { id, input } = event.data;
  layoutGraph(input).then(
    (result) => scope.postMessage({ id, result }),
    (error: unknown) => scope.postMessage({ id, error: String(error) }),
  );
};
