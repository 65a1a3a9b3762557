/**
 * Serves the Kubernetes API double until SIGTERM/SIGINT, for scripts that run Skiff against it (the script
 * of .github/workflows/kubernetes.yml, run by test/integration/kubernetes/ci-script.test.ts):
 *
 *   npx tsx test/doubles/kube-api/serve.ts <kubeconfig-to-write> [image=local-image ...]
 *
 * Writes the kubeconfig once it listens, then prints `ready <url>`.
 */
import { KubeApiDouble } from "./server.js";

const [file, ...maps] = process.argv.slice(2);
if (!file) {
  console.error("usage: serve.ts <kubeconfig-to-write> [image=local-image ...]");
  process.exit(2);
}
const imageMap = Object.fromEntries(maps.map((m) => m.split("=") as [string, string]));
const double = new KubeApiDouble({ imageMap });
const url = await double.start();
double.writeKubeconfig(file);
console.log(`ready ${url}`);
const stop = (): void => {
  void double.stop().then(() => {
    console.log(`leftovers ${JSON.stringify(double.leftovers())}`);
    console.log(`validation ${JSON.stringify(double.store.stats)}`);
    process.exit(0);
  });
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
