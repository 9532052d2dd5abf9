import { registerErrors } from '../kernel/errors.ts';

/**
 * The social graph's error catalog. A request or group the caller is not party to answers the
 * same 404 as a missing one, so ids cannot be probed; a user id that is not the caller's friend
 * is refused the same way whether or not it exists.
 */
export const socialErrors = registerErrors('social', {
  user_not_found: { status: 404, title: 'No user with this mobile number or id', retryable: false },
  request_not_found: { status: 404, title: 'No such friend request', retryable: false },
  friend_not_found: { status: 404, title: 'This user is not your friend', retryable: false },
  group_not_found: { status: 404, title: 'No such group', retryable: false },
  recipient_only: {
    status: 403,
    title: 'Only the recipient can answer a friend request',
    retryable: false,
  },
  sender_only: {
    status: 403,
    title: 'Only the sender can cancel a friend request',
    retryable: false,
  },
  already_friends: { status: 409, title: 'You are already friends', retryable: false },
  request_pending: {
    status: 409,
    title: 'A friend request to this user is already pending',
    retryable: false,
  },
  request_not_pending: {
    status: 409,
    title: 'The friend request was already answered or cancelled',
    retryable: false,
  },
  already_member: {
    status: 409,
    title: 'The user is already a member of the group',
    retryable: false,
  },
  group_full: { status: 409, title: 'The group has reached its member limit', retryable: false },
  friend_limit_reached: {
    status: 409,
    title: 'A friend list has reached its limit',
    retryable: false,
  },
  group_limit_reached: {
    status: 409,
    title: 'A user has joined the maximum number of groups',
    retryable: false,
  },
  pending_limit_reached: {
    status: 409,
    title: 'Too many friend requests are waiting for an answer',
    retryable: true,
  },
  cannot_befriend_self: {
    status: 422,
    title: 'You cannot send a friend request to yourself',
    retryable: false,
  },
  not_friend: { status: 422, title: 'Only your friends can be added to a group', retryable: false },
});
