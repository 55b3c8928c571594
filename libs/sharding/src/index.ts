export { murmur2, toPositive } from './murmur2.js';
export { shardOf } from './shard-key.js';
export { ShardMap, splitShards, type ShardDatabase, type ShardRange } from './shard-map.js';
