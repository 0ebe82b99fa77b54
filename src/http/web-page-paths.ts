/** The two pages the web process serves (built by Vite from web/app and web/panel). */
export type WebPage = 'app' | 'panel';
export const WEB_PAGES: readonly WebPage[] = ['app', 'panel'];

/** Which page a request path names: exact paths only, like the router (no case or slash variants). */
export function webPageOf(path: string): WebPage | undefined {
  if (path === '/app/') return 'app';
  if (path === '/panel/') return 'panel';
  return undefined;
}
