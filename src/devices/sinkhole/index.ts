export { SinkholeServer, nftRuleset, DEFAULT_HEARTBEAT_MS } from './server.js';
export type { SinkholeOptions, SinkholeService } from './server.js';
export { originalDst, normalizeAddress } from './conntrack.js';
export { assertNotForwarding, installNft, removeNft, NFT_TABLE } from './gateway.js';
export { forwardingOn } from './forwarding.js';
export { SinkholeSetupError } from './errors.js';
