/** The Redis driver of the sharding proxy. */
export { RedisClientParser } from "./client-parser.js";
export { redisDriver } from "./driver.js";
export { expectToken, isServerErrorText, RedisReplyFramer } from "./reply-framer.js";
