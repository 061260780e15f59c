// Moved to src/cli/ with the shared stack bootstrap (src/cli/stack.ts); re-exported here for the tests.
export { type ProxyProcess, startProxyProcess } from "../../src/cli/proxy-process.ts";
