/** Routes live in the URL hash (#/transfer), so the server serves one page for all of them. */
export type Route = 'home' | 'transfer' | 'topup' | 'bills' | 'pin' | 'friends';
const routes: readonly Route[] = ['home', 'transfer', 'topup', 'bills', 'pin', 'friends'];

export function routeFromHash(): Route {
  const name = window.location.hash.replace(/^#\/?/, '');
  return routes.find((route) => route === name) ?? 'home';
}

export function navigate(route: Route): void {
  window.location.hash = route === 'home' ? '/' : `/${route}`;
}
