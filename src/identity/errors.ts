import { registerErrors } from '../kernel/errors.ts';

/** Identity's error catalog. Login failures never say whether the mobile number exists. */
export const identityErrors = registerErrors('identity', {
  mobile_invalid: { status: 400, title: 'The mobile number is not valid', retryable: false },
  password_too_weak: { status: 400, title: 'The password is too weak', retryable: false },
  mobile_taken: { status: 409, title: 'This mobile number already has an account', retryable: false },
  login_failed: { status: 401, title: 'Wrong mobile number or password', retryable: false },
  login_locked: { status: 423, title: 'Too many failed logins; the account is locked for a while', retryable: true },
  pin_invalid_format: { status: 400, title: 'A payment PIN is 6 digits', retryable: false },
  pin_not_set: { status: 409, title: 'Set a payment PIN first', retryable: false },
  pin_already_set: { status: 409, title: 'A payment PIN is already set', retryable: false },
  pin_wrong: { status: 403, title: 'Wrong payment PIN', retryable: false },
  pin_locked: { status: 423, title: 'Too many wrong PINs; payments are locked for a while', retryable: true },
  id_number_invalid: { status: 400, title: 'The ID number is not valid', retryable: false },
  id_number_taken: { status: 409, title: 'This ID number is verified on another account', retryable: false },
  already_verified: { status: 409, title: 'The real name is already verified', retryable: false },
  user_not_found: { status: 404, title: 'No such user', retryable: false },
});
