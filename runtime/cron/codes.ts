import { defineErrorCodes } from "../errors/index.js";

/** Error codes of CronWorkflow validation and scheduling (`SKF-CRON-`). */
export const CRON_CODES = defineErrorCodes({
  "SKF-CRON-001": {
    title: "Invalid cron schedule",
    hint: 'A schedule has 5 fields (minute hour day-of-month month day-of-week, no seconds), or is one of @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>; it may start with CRON_TZ=<zone>. Example: schedules: ["0 2 * * *"].',
  },
  "SKF-CRON-002": {
    title: "Unknown time zone",
    hint: "spec.timezone is an IANA time zone name such as Europe/Berlin, America/New_York or UTC.",
  },
  "SKF-CRON-003": {
    title: "Invalid CronWorkflow field",
    hint: "concurrencyPolicy is Allow, Forbid or Replace; startingDeadlineSeconds and the history limits are numbers of at least 0; metadata.name has at most 52 characters (the run's name adds -<unix time>).",
  },
  "SKF-CRON-004": {
    title: "CronWorkflow expression failed",
    hint: "spec.when is a govaluate expression after {{cronworkflow.*}} substitution and must give true or false; stopStrategy.expression is an expr-lang expression over cronworkflow.name, namespace, labels, annotations, failed, succeeded and lastScheduledTime.",
  },
});
