// The API listener's router: GET routes by path pattern; /metrics and the DNS analytics report hang off it.

import type http from 'node:http';
import type { Logger } from 'pino';
import { aggregateRequest, buildReport, envelope, errorEnvelope, parseReportQuery, ReportError, type AggregateRequest, type Collected } from './analytics.js';

/** An answer: status, content type, body. */
export interface HttpAnswer {
  readonly status: number;
  readonly type: string;
  readonly body: string;
}

/** One GET route: `pattern` is matched against the path; its groups are the handler's parameters. */
export interface Route {
  readonly pattern: RegExp;
  handle(params: readonly string[], query: URLSearchParams): Promise<HttpAnswer>;
}

const json = (status: number, v: unknown): HttpAnswer => ({ status, type: 'application/json', body: JSON.stringify(v) });

/** The request handler for http.createServer: the first route whose pattern matches; else 404. */
export function router(routes: readonly Route[], log: Logger): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    for (const r of routes) {
      const m = r.pattern.exec(url.pathname);
      if (m === null) continue;
      if (req.method !== 'GET') break;
      r.handle(m.slice(1).map((s) => decodeURIComponent(s)), url.searchParams)
        .then((a) => res.writeHead(a.status, { 'content-type': a.type }).end(a.body))
        .catch((err: unknown) => {
          log.error({ err, path: url.pathname }, 'api: request failed');
          res.writeHead(500, { 'content-type': 'text/plain' }).end('internal error\n');
        });
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  };
}

/** Cloudflare's error code for a bad analytics query (apexdns's own number; see README "DNS analytics"). */
export const BAD_QUERY = 7400;
/** Unknown zone (Cloudflare answers "Could not route to …" with 7003). */
export const NO_ZONE = 7003;

/**
 * GET /client/v4/zones/:zone_id/dns_analytics/report[/bytime]: Cloudflare's legacy DNS analytics report over the
 * rollups of every serving process (`collect` asks them). No token yet: the API's tokens (issue 13) will guard it.
 */
export function analyticsRoutes(collect: (req: AggregateRequest) => Promise<Collected>): Route[] {
  const handle = (bytime: boolean) => async (params: readonly string[], query: URLSearchParams): Promise<HttpAnswer> => {
    const param = params[0] ?? '';
    let q;
    try {
      // The zone (a zone_id or a name) is resolved by the serving processes, against the zones they serve now.
      // "Now" as the end of the current second: [since, until) then holds a minute that began this very second.
      q = parseReportQuery(param, query, bytime, Math.floor(Date.now() / 1000) + 1);
    } catch (e) {
      if (e instanceof ReportError) return json(400, errorEnvelope(BAD_QUERY, e.message));
      throw e;
    }
    const got = await collect(aggregateRequest(q));
    if (got.zone === undefined) return json(404, errorEnvelope(NO_ZONE, `Could not route to /zones/${param}, perhaps your object identifier is invalid?`));
    return json(200, envelope(buildReport(q, got.groups)));
  };
  return [
    { pattern: /^\/client\/v4\/zones\/([^/]+)\/dns_analytics\/report\/?$/, handle: handle(false) },
    { pattern: /^\/client\/v4\/zones\/([^/]+)\/dns_analytics\/report\/bytime\/?$/, handle: handle(true) },
  ];
}
