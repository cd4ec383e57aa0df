/** HTTP header access shared by the hub client and the transport (no network code here: cheap to import). */
import type { IncomingHttpHeaders } from 'node:http';

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}
