import { defineErrorCodes } from "../../runtime/errors/index.js";

export const UI_CODES = defineErrorCodes({
  "SKF-UI-001": {
    title: "UI bundle not found",
    hint: "Point `assetsDir` at the folder the build writes the UI into (dist/ui, with index.html and ui-assets/); run `npm run build` if it is missing.",
  },
  "SKF-UI-002": {
    title: "Invalid UI base path",
    hint: "The base path is the URL prefix the UI is served under, e.g. `/` or `/argo/`: it starts with `/` and holds only URL path characters.",
  },
});
