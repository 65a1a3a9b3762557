import { defineErrorCodes } from "../../runtime/errors/index.js";

/** Codes of `skiff server`: its settings, and the requests it refuses before any workflow is touched. */
export const SERVER_CODES = defineErrorCodes({
  "SKF-SRV-001": {
    title: "Server token not available",
    hint: "Each entry of the config's `server.tokens` names a token inline (`token`), in a readable file (`tokenFile`) or in a set environment variable (`tokenEnv`).",
  },
  "SKF-SRV-002": {
    title: "Request body is not valid",
    hint: 'Send a JSON object as Argo\'s API describes it, e.g. `{"workflow": {...}}` for a create; see docs/server.md.',
  },
  "SKF-SRV-003": {
    title: "TLS certificate or key not readable",
    hint: "Give --tls-cert and --tls-key together, each a readable PEM file (the key unencrypted).",
  },
  "SKF-SRV-004": {
    title: "Bad list options",
    hint: "listOptions.continue is an offset (an integer >= 0), listOptions.limit a count; field selectors are metadata.name, metadata.namespace (=, ==, !=) and spec.startedAt (<, >).",
  },
  "SKF-SRV-005": {
    title: "Request body too large",
    hint: "Request bodies are limited to 2 MB; put large data in artifacts, not in the workflow.",
  },
  "SKF-SRV-006": {
    title: "Server options not valid",
    hint: "--auth-mode is server or token; token mode needs at least one token under the config's `server.tokens`.",
  },
});
