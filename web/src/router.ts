/** Routes live in the URL hash (#/transfer, #/pay?code=…), so the server serves one page for all of them. */
export type Route =
  | 'home'
  | 'transfer'
  | 'topup'
  | 'bills'
  | 'pin'
  | 'friends'
  | 'groups'
  | 'pay'
  | 'paycode'
  | 'shop'
  | 'redpackets'
  | 'redpacket'
  | 'redpacket-send'
  | 'rain'
  | 'vouchers'
  | 'credit'
  | 'consent'
  | 'annual-bill'
  | 'bike';
const routes: readonly Route[] = ['home', 'transfer', 'topup', 'bills', 'pin', 'friends', 'groups', 'pay', 'paycode', 'shop', 'redpackets', 'redpacket', 'redpacket-send', 'rain', 'vouchers', 'credit', 'consent', 'annual-bill', 'bike'];

function hashParts(): [string, string] {
  const [name = '', query = ''] = window.location.hash.replace(/^#\/?/, '').split('?', 2);
  return [name, query];
}

export function routeFromHash(): Route {
  const [name] = hashParts();
  return routes.find((route) => route === name) ?? 'home';
}

/**
 * The token of a public annual-bill share card (#/share/<token>): a page anyone with the link opens,
 * signed in or not. Null for every other route.
 */
export function shareTokenFromHash(): string | null {
  const match = /^share\/([A-Za-z0-9_-]{1,64})$/.exec(hashParts()[0]);
  return match?.[1] ?? null;
}

/**
 * The trade number of an open-platform trade's cashier (#/trade/<28 digits>): the link an ISV's
 * precreate answers as its qr_code. Null for every other route.
 */
export function tradeNoFromHash(): string | null {
  const match = /^trade\/([0-9]{28})$/.exec(hashParts()[0]);
  return match?.[1] ?? null;
}

/**
 * The trade number in what a payer scanned or pasted: a cashier link (…/#/trade/<28 digits>, from
 * this or any host) or the bare 28-digit trade number. Null when it is neither (a receive code).
 */
export function tradeNoIn(text: string): string | null {
  const trimmed = text.trim();
  if (/^[0-9]{28}$/.test(trimmed)) return trimmed;
  const match = /#\/trade\/([0-9]{28})(?:[?#].*)?$/.exec(trimmed);
  return match?.[1] ?? null;
}

/** Goes to the cashier of an open-platform trade. */
export function navigateToTrade(tradeNo: string): void {
  window.location.hash = `/trade/${tradeNo}`;
}

/** A query parameter of the hash route: `code` of `#/pay?code=qb-shop:…`. */
export function hashParam(name: string): string | null {
  return new URLSearchParams(hashParts()[1]).get(name);
}

/** Goes to a route, with query parameters where it takes them: `navigate('redpacket', { id })`. */
export function navigate(route: Route, params: Readonly<Record<string, string>> = {}): void {
  const query = new URLSearchParams(params).toString();
  const path = route === 'home' ? '/' : `/${route}`;
  window.location.hash = query === '' ? path : `${path}?${query}`;
}
