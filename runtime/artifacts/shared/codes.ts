import { defineErrorCodes } from "../../errors/index.js";

/** Error codes of the remote artifact drivers (`SKF-ARTD-`): S3, Azure, GCS, HTTP, Git, Artifactory, OSS. */
export const ARTD_CODES = defineErrorCodes({
  "SKF-ARTD-001": {
    title: "Secret not found",
    hint: "The artifact names a Secret that was not given to Skiff. Pass the Secret manifest with the workflow (or set the credentials in the environment) and check its name.",
  },
  "SKF-ARTD-002": {
    title: "Secret key missing",
    hint: "The Secret exists but has no entry under the key the artifact names. Add it under `data` (base64) or `stringData`.",
  },
  "SKF-ARTD-003": {
    title: "Artifact larger than the bound",
    hint: "The stored artifact is larger than the driver's load bound. Store a smaller artifact or raise `maxBytes` in the driver options.",
  },
  "SKF-ARTD-004": {
    title: "Artifact location incomplete",
    hint: "The storage block misses a field it needs (bucket, key, url, repo, container, blob...). Fill it in, or configure a default artifact repository that supplies it.",
  },
  "SKF-ARTD-005": {
    title: "Storage request failed",
    hint: "The storage backend refused or failed the request. Check the endpoint, the bucket or container and the network; the message carries the backend's answer.",
  },
  "SKF-ARTD-006": {
    title: "Access denied by storage",
    hint: "The backend rejected the credentials or they lack permission. Check the Secret's values (or the environment's credentials) and the bucket's policy.",
  },
  "SKF-ARTD-007": {
    title: "Artifact option not supported",
    hint: "Skiff does not implement this storage option. Remove it, or use a configuration the driver's README lists as supported.",
  },
  "SKF-ARTD-008": {
    title: "Git command failed",
    hint: "Cloning or checking out the repository failed. Check `repo`, `revision`, the credentials and that `git` is installed; the message carries git's own error.",
  },
  "SKF-ARTD-009": {
    title: "Unsafe object name in folder",
    hint: "An object under the folder's prefix has a name that would land outside the target folder (`..` or an absolute path). Rename the object in the store.",
  },
  "SKF-ARTD-010": {
    title: "Artifact storage is read-only",
    hint: "This storage can only be read (e.g. `git`). Save outputs to an artifact repository (S3, GCS, Azure...) instead.",
  },
});
