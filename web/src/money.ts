/** "12.34" (yuan, as typed) → "1234" (fen, as the API wants); undefined if not a valid amount. */
export function yuanToMinor(text: string): string | undefined {
  const match = /^(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,2}))?$/.exec(text.trim());
  if (match === null) return undefined;
  const minor = `${match[1] ?? '0'}${(match[2] ?? '').padEnd(2, '0')}`.replace(/^0+(?=\d)/, '');
  return minor === '0' ? undefined : minor;
}

/** An amount in fen times a whole count, exactly (bigint): a fixed red packet's share × its count. */
export function timesMinor(minor: string, count: number): string {
  return (BigInt(minor) * BigInt(count)).toString();
}
