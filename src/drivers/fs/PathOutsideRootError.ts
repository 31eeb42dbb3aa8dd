/**
 * A key resolved (through a symlink, or a path trick that slipped past key validation) to a place
 * outside the storage's root. A raw driver error: the facade wraps it, `serveFiles` answers 404.
 */
export class PathOutsideRootError extends Error {
  readonly code = "ERR_PATH_OUTSIDE_ROOT";

  constructor(key: string) {
    super(`Key ${JSON.stringify(key)} resolves outside the storage's location; refusing to follow it.`);
    this.name = "PathOutsideRootError";
  }
}
