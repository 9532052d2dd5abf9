/**
 * Identity's pure rules: what a mobile number, password, PIN and resident ID number look like,
 * and the lockout policy. No I/O.
 */

export const loginFailuresMax = 10;
export const loginLockMs = 30 * 60_000;
export const pinFailuresMax = 5;
export const pinLockMs = 15 * 60_000;
export const sessionTtlMs = 30 * 24 * 3600_000;
export const passwordLengthMin = 8;
export const passwordLengthMax = 128;
/** What an unverified user may send per calendar day (Asia/Shanghai), in fen: ¥1,000. */
export const unverifiedDailySendMaxMinor = 100_000n;

/** Mainland mobile numbers: 11 digits, 1[3-9]…; a leading +86 or 86 is accepted and dropped. */
export function normalizeMobile(input: string): string | undefined {
  const compact = input.replace(/[\s-]/g, '');
  const local = compact.startsWith('+86') ? compact.slice(3) : compact.startsWith('86') && compact.length === 13 ? compact.slice(2) : compact;
  return /^1[3-9][0-9]{9}$/.test(local) ? local : undefined;
}

/** At least 8 characters with a letter and a digit; a password that is the mobile number is refused. */
export function passwordProblem(password: string, mobile: string): string | undefined {
  if (password.length < passwordLengthMin) return `use at least ${String(passwordLengthMin)} characters`;
  if (password.length > passwordLengthMax) return `use at most ${String(passwordLengthMax)} characters`;
  if (!/[A-Za-z]/.test(password) || !/[0-9]/.test(password)) return 'use letters and digits';
  if (password.includes(mobile)) return 'do not use your mobile number';
  return undefined;
}

export function isPinFormat(pin: string): boolean {
  return /^[0-9]{6}$/.test(pin);
}

/** A PIN like 123456 or 111111 is refused when set: it is the first one anyone tries. */
export function isWeakPin(pin: string): boolean {
  const digits = Array.from(pin, Number);
  const same = digits.every((digit) => digit === digits[0]);
  const ascending = digits.every((digit, index) => index === 0 || digit === (digits[index - 1] ?? 0) + 1);
  const descending = digits.every((digit, index) => index === 0 || digit === (digits[index - 1] ?? 0) - 1);
  return same || ascending || descending;
}

const idWeights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const idCheckCodes = '10X98765432';

/**
 * A mainland resident ID number (GB 11643-1999): 18 characters, a region code, a real birth date
 * (YYYYMMDD, not in the future), a sequence, and the ISO 7064 MOD 11-2 check character.
 */
export function idNumberProblem(input: string, now: Date): string | undefined {
  const id = input.trim().toUpperCase();
  if (!/^[1-9][0-9]{16}[0-9X]$/.test(id)) return 'an ID number is 17 digits and a check digit or X';
  const year = Number(id.slice(6, 10));
  const month = Number(id.slice(10, 12));
  const day = Number(id.slice(12, 14));
  const birth = new Date(Date.UTC(year, month - 1, day));
  const realDate = birth.getUTCFullYear() === year && birth.getUTCMonth() === month - 1 && birth.getUTCDate() === day;
  if (!realDate || year < 1900 || birth.getTime() > now.getTime()) return 'the birth date in the ID number is not valid';
  const sum = idWeights.reduce((total, weight, index) => total + weight * Number(id[index]), 0);
  if (idCheckCodes[sum % 11] !== id[17]) return 'the ID number check digit does not match';
  return undefined;
}

export function maskIdNumber(id: string): string {
  return `${id.slice(0, 3)}***********${id.slice(-4)}`;
}

export function maskMobile(mobile: string): string {
  return `${mobile.slice(0, 3)}****${mobile.slice(-4)}`;
}

export function realNameProblem(name: string): string | undefined {
  const trimmed = name.trim();
  if (trimmed.length < 2 || trimmed.length > 30) return 'a real name is 2 to 30 characters';
  if (!/^[\p{Script=Han}A-Za-z·.\s]+$/u.test(trimmed)) return 'a real name is letters or Chinese characters';
  return undefined;
}
