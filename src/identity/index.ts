/** Identity's public API: users, sessions, the payment PIN, real-name level. */
export { Identity, type AuthUser, type Session } from './service.ts';
export { authenticateUser, currentUser, identityRoutes, sessionCookie, toUserJson, UserJson } from './routes.ts';
export { identityErrors } from './errors.ts';
export { unverifiedDailySendMaxMinor, normalizeMobile, maskMobile } from './model.ts';
