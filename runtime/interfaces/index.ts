export * from "./clock.js";
export * from "./executor.js";
export * from "./artifacts.js";
export * from "./events.js";
export * from "./store.js";
export * from "./memo.js";
