/** Red packets' public API: lucky and fixed packets between people, their settlement and expiry. */
export { RedPackets, type RedPacketsDeps, type PacketView, type GrabOutcome } from './service.ts';
export type { PacketAudit } from './payouts.ts';
export { redPacketRoutes, type RedPacketRoutesOptions } from './routes.ts';
export { redpacketErrors } from './errors.ts';
export { splitRule, sharesMaxDefault } from './model.ts';
