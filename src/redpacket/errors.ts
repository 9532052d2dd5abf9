import { registerErrors } from '../kernel/errors.ts';

/**
 * Red packets' error catalog. A packet the caller may not see (not theirs, not their friend's,
 * not their group's) answers the same 404 as a missing one.
 */
export const redpacketErrors = registerErrors('redpacket', {
  not_found: { status: 404, title: 'No such red packet', retryable: false },
  friend_packet_single_share: { status: 422, title: 'A red packet to one friend has exactly one share', retryable: false },
  too_many_shares: { status: 422, title: 'Too many shares for one red packet', retryable: false },
  more_shares_than_members: { status: 422, title: 'More shares than the group has members', retryable: false },
  share_too_small: { status: 422, title: 'Every share must be at least ¥0.01', retryable: false },
  share_too_large: { status: 422, title: 'A share may be at most ¥200 on average', retryable: false },
  fixed_not_divisible: { status: 422, title: 'A fixed red packet must split into equal shares', retryable: false },
  own_packet: { status: 422, title: 'A red packet to a friend is for the friend to open', retryable: false },
  not_ready: { status: 409, title: 'The red packet is still being paid for', retryable: true },
  empty: { status: 409, title: 'Too slow: every share has been taken', retryable: false },
  expired: { status: 410, title: 'The red packet has expired', retryable: false },
});

/** The hourly rain's error catalog. */
export const rainErrors = registerErrors('rain', {
  not_found: { status: 404, title: 'No such rain', retryable: false },
  invalid: { status: 422, title: 'The rain is not valid', retryable: false },
  not_started: { status: 409, title: 'The rain has not started for you yet', retryable: true },
  ended: { status: 410, title: 'The rain is over', retryable: false },
  prize_not_found: { status: 404, title: 'You won no such prize in this rain', retryable: false },
  no_fission: { status: 422, title: 'This rain hands out no fission packets', retryable: false },
});
