// Moved to src/cli/ so `relay start` ships it; re-exported here for the tests.
export { freePort } from "../../src/cli/free-port.ts";
