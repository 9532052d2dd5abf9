/** The social graph's public API: friends and groups, which red packets, cards and energy travel along. */
export {
  Social,
  type SocialDeps,
  type UserDirectory,
  type SendRequestInput,
  type SendRequestResult,
} from './service.ts';
export type { GroupService, CreateGroupInput } from './groups.ts';
export { socialRoutes, type SocialRoutesOptions } from './routes.ts';
export { socialErrors } from './errors.ts';
export {
  defaultSocialLimits,
  type Friend,
  type FriendRequest,
  type FriendRequestState,
  type GroupDetail,
  type GroupMember,
  type GroupSummary,
  type LeaveResult,
  type Page,
  type SocialLimits,
  type UserSummary,
} from './model.ts';
