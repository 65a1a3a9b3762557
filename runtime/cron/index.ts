export { CRON_CODES } from "./codes.js";
export { CRON_ANNOTATIONS, CRON_LABELS, cronWorkflowRunName, rfc3339, workflowFromCron } from "./convert.js";
export {
  isKnownTimeZone,
  latestFiring,
  localTimeZone,
  nextFiring,
  parseCronSchedules,
  parseSchedule,
  scheduleKey,
  schedulesOf,
  type CronSchedule,
} from "./schedule.js";
export {
  evaluateCronStop,
  evaluateCronWhen,
  startCronScheduler,
  statusOf,
  type CronActiveRef,
  type CronFiring,
  type CronScheduler,
  type CronSchedulerOptions,
  type CronSchedulerStore,
  type CronSubmission,
  type CronWorkflowStatus,
} from "./scheduler.js";
export { MAX_CRON_NAME, validateCronWorkflow } from "./validate.js";
