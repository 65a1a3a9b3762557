import { defineErrorCodes } from "../../runtime/errors/index.js";

/** Codes of the server's event doors: `POST /api/v1/events/...` and the Git webhooks. */
export const EVENT_CODES = defineErrorCodes({
  "SKF-EVT-001": {
    title: "WorkflowEventBinding not valid",
    hint: "Each file of the config's `server.eventBindings` folder holds WorkflowEventBindings (apiVersion argoproj.io/v1alpha1) with `spec.event.selector` and, to submit, `spec.submit.workflowTemplateRef.name` and parameters with `valueFrom.event`; see docs/server.md.",
  },
  "SKF-EVT-002": {
    title: "Event could not be dispatched",
    hint: "A binding's selector or parameter expression failed, or its WorkflowTemplate could not be submitted; the message names the binding. Selectors must evaluate to true or false.",
  },
  "SKF-EVT-003": {
    title: "Webhook secret not available",
    hint: "server.github names the secret inline (`webhookSecret`), in a readable file (`webhookSecretFile`) or in a set environment variable (`webhookSecretEnv`).",
  },
});
