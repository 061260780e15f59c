// Lives in src/cli/ so `relay start --redis-cluster` can ship it; re-exported here for the tests.
export { type RedisCluster, startRedisCluster } from "../../src/cli/redis-cluster.ts";
