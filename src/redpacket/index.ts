/** Red packets' public API: lucky and fixed packets between people, their settlement and expiry. */
export { RedPackets, type RedPacketsDeps, type GrabOutcome } from './service.ts';
export type { PacketView } from './view.ts';
export type { PacketAudit } from './payouts.ts';
export { redPacketRoutes, type RedPacketRoutesOptions } from './routes.ts';
export { redpacketErrors, rainErrors } from './errors.ts';
export { Rains, campaignBudgetAccountId, type RainsDeps } from './rain.ts';
export { rainRoutes, rainAdminRoutes } from './rain-routes.ts';
export { splitRule, sharesMaxDefault } from './model.ts';
