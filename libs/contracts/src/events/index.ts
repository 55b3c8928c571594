export { API_KEY_SIGNATURE_PATTERN, apiKeyChangeSigned, signApiKeyChange, type UnsignedApiKeyChange } from './api-key-signature.js';
export { newEvent, toKafkaRecord, type CloudEvent, type KafkaRecord } from './cloud-event.js';
export {
  COMMAND_ID_PATTERN,
  COMMAND_TYPES,
  CommandCompletedData,
  CommandRejectedData,
  CommandResultData,
  type CommandType,
} from './command-types.js';
export {
  ApiKeyChangedData,
  DIGEST_BUCKETS,
  DigestBucketDto,
  EVENT_DATA_CLASSES,
  EVENT_TYPES,
  PartitionOffsetDto,
  RegionHeartbeatData,
  StockAlertData,
  StockChangeCauseDto,
  StockChangedData,
  IncomingReceiptDto,
  StockDigestData,
  TransferData,
  TransferDispatchedData,
  TransferReceivedData,
  WarehouseChangedData,
  ChannelChangedData,
  KitChangedData,
  KitComponentDto,
  type EventDataMap,
  type EventType,
} from './event-types.js';
export { isEventTime, IsEventTime, IsEventVersion, MAX_EVENT_COUNT, MAX_EVENT_VERSION } from './event-fields.js';
export { parseEvent, PoisonEventError } from './parse-event.js';
export { stockStateKey, TOPICS, type TopicName } from './topics.js';
