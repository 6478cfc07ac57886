export { DashboardHub } from './hub.js';
export { DashboardState, LIMITS, type DashboardEvent, type DashboardSnapshot } from './state.js';
export { SeriesHistory, type HistoryPayload } from './history.js';
export { startDashboardServer, resolveRunFile, LOOPBACK, type DashboardServer, type DashboardServerOptions } from './server.js';
export { followEvents, EVENTS_FILE, type Follower, type FollowOptions } from './follow.js';
export { DashboardError } from './errors.js';
