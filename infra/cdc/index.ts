/** What the clouds' CDC components use: `strata:cdc`, the plugin's names, the connectors. */
export {
  cdcStackKeys,
  parseCdc,
  type CdcConfig,
  type CdcDatabase,
  type SecretRef,
} from "./config.js";
export { cdcConnectors, CONFIG_REFERENCE, type CdcSecretReferences } from "./connectors.js";
export {
  cdcConnectClusterNames,
  DEBEZIUM_POSTGRES_ARTIFACT,
  DEBEZIUM_VERSION,
  passwordEnvName,
  PLUGIN_ARCHIVE,
} from "./names.js";
export { connectorEnvName, registerConnectorsScript } from "./register.js";
