// Moved to src/cli/ so `relay start` ships it; re-exported here for the tests.
export { type RedisServer, redisServerBinary, startRedisServer } from "../../src/cli/redis-server.ts";
