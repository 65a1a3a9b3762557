import { finaliseOpenChecks } from "./finalise.js";

await finaliseOpenChecks();
