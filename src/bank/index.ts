export type * from './connector.js';
export { BANK_ERROR, failure, httpErrorCode, transportErrorCode } from './errors.js';
export {
  BankConnectorConfigError,
  BUILTIN_CONNECTORS,
  type ConnectorEntry,
  type ConnectorRegistry,
  createConnectorRegistry,
  DEFAULT_BANK_CONNECTORS,
  guardConnector,
  parseBankConnectors,
  type RegistryOptions,
} from './registry.js';
