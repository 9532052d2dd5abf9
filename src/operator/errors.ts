import { registerErrors } from '../kernel/errors.ts';

export const operatorErrors = registerErrors('operator', {
  login_failed: { status: 401, title: 'Wrong username or password', retryable: false },
  login_locked: { status: 423, title: 'Too many failed logins; the operator account is locked for a while', retryable: true },
  username_taken: { status: 409, title: 'An operator with this username exists', retryable: false },
  username_invalid: { status: 400, title: 'A username is 3–32 lower-case letters, digits, _ . -', retryable: false },
  password_too_weak: { status: 400, title: 'An operator password has at least 12 characters', retryable: false },
  forbidden_role: { status: 403, title: 'This operator role may not do that', retryable: false },
});
