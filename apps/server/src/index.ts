/** Public API of @sharemap/server (used by the CLI's `serve` and `token create`, and by tests). */
export { createApp, CSP, type SharemapApp } from './app.js';
export { defaultConfig, loadConfig, ConfigError, type ServerConfig } from './config.js';
export { DEFAULT_LIMITS, resolveLimits, limitEnvName, type Limits } from './limits.js';
export { openContext, type AppContext } from './context.js';
export { startServer, start, type RunningServer } from './server.js';
export {
  createToken,
  createTokenIn,
  listTokens,
  listTokensIn,
  revokeToken,
  revokeTokenIn,
  type TokenInfo,
} from './tokens.js';
export { openDb, type Db } from './storage/db.js';
export { BlobStore } from './storage/blobs.js';
export { HttpError } from './errors.js';
