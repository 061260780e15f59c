import { fileURLToPath } from "node:url";

/** Bundled into dist/cli.mjs (an installed package) this module runs from dist/, not src/cli/ (a clone). */
export const FROM_BUILD = import.meta.url.endsWith("/dist/cli.mjs");
/** The package's (or the clone's) root directory, with a trailing slash. */
export const PACKAGE_ROOT = fileURLToPath(new URL(FROM_BUILD ? "../" : "../../", import.meta.url));
