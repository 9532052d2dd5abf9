import { registerErrors } from '../kernel/errors.ts';

/** Consent and credit errors: each in docs/errors.md. */
export const consentErrors = registerErrors('consent', {
  agree_required: { status: 422, title: 'Consent is given only by agreeing explicitly', retryable: false },
  text_mismatch: { status: 422, title: 'The text agreed to is not the current text of this purpose', retryable: false },
  unknown_purpose: { status: 422, title: 'No such consent purpose', retryable: false },
  partner_required: { status: 422, title: 'This purpose is a grant to a named partner', retryable: false },
  scope_invalid: { status: 422, title: 'That scope is not one this purpose offers', retryable: false },
  grant_not_found: { status: 404, title: 'No such grant', retryable: false },
  text_not_found: { status: 404, title: 'No such consent text', retryable: false },
});

export const creditErrors = registerErrors('credit', {
  consent_required: { status: 403, title: 'No live grant from the user allows this', retryable: false },
  partner_unauthorized: { status: 401, title: 'A partner API key is required', retryable: false },
  partner_not_found: { status: 404, title: 'No such partner', retryable: false },
  user_not_found: { status: 404, title: 'No such user', retryable: false },
  deposit_not_found: { status: 404, title: 'No such deposit', retryable: false },
  deposit_closed: { status: 409, title: 'The deposit is already returned or charged', retryable: false },
  charge_exceeds_deposit: { status: 422, title: 'A charge cannot exceed the deposit', retryable: false },
  share_not_found: { status: 404, title: 'No such share link, or it was revoked', retryable: false },
  year_invalid: { status: 422, title: 'No annual bill for that year', retryable: false },
});
