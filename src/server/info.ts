import type { Route } from "./http.js";
import { VERSION } from "../version.js";
import type { AuthMode } from "./auth.js";

/** Argo's InfoService: info, version and userinfo. */
export function infoRoutes(mode: AuthMode): Route[] {
  return [
    {
      method: "GET",
      path: "/api/v1/info",
      access: "read",
      handler: () =>
        Promise.resolve({
          links: [],
          columns: [],
          navColor: "",
          modals: { feedback: false, firstTimeUser: false, newVersion: false },
        }),
    },
    {
      method: "GET",
      path: "/api/v1/version",
      access: "read",
      handler: () =>
        Promise.resolve({
          version: `v${VERSION}`,
          buildDate: "",
          gitCommit: "",
          gitTag: `v${VERSION}`,
          gitTreeState: "",
          goVersion: process.version,
          compiler: "node",
          platform: `${process.platform}/${process.arch}`,
        }),
    },
    {
      method: "GET",
      path: "/api/v1/userinfo",
      access: "read",
      // Tokens carry no identity: Argo answers `{}` when there are no claims.
      handler: () => Promise.resolve(mode === "server" ? { serviceAccountName: "skiff-server" } : {}),
    },
  ];
}
