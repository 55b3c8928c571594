export { APP_CONFIG, type AppConfig, type KafkaSasl } from './app-config.js';
export { kafkaPrincipalOfRegion, readKafkaCredentials, type KafkaCredentials } from './kafka-credentials.js';
export { Clock, systemClock } from './clock.js';
export { RepeatingTask } from './repeating-task.js';
export {
  allocationOrderOf,
  defaultCluster,
  defaultDatabaseName,
  regionOf,
  shardMapOf,
  withDatabase,
  type ClusterConfig,
  type DefaultClusterSettings,
  type InternalListenerConfig,
  type RegionConfig,
} from './cluster-config.js';
export { ConfigModule } from './config.module.js';
export {
  ClusterFileDto,
  ConfigError,
  EnvironmentDto,
  REGION_ID_PATTERN,
  kafkaSaslOf,
  loadAppConfig,
  loadCluster,
  parseEnvironment,
} from './environment.js';
export { CLUSTER_SECRET_MIN_LENGTH, ClusterSecret, clusterSecretsIn } from './cluster-secret.js';
export { ClusterSecretReloader } from './cluster-secret-reloader.js';
