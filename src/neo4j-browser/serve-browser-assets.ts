import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../config';
import { buildBrowserGuide, parseCypherExamples } from './build-browser-guide';
import { buildBrowserStyle } from './browser-style';

/** URL prefix of what the API serves for Neo4j Browser. */
export const BROWSER_ASSET_PREFIX = '/neo4j-browser/';
/** Path of the guide (`:guide <url>` or `:play <url>` in Neo4j Browser). */
export const BROWSER_GUIDE_PATH = `${BROWSER_ASSET_PREFIX}guide.html`;
/** Path of the style (`:style <url>`). */
export const BROWSER_STYLE_PATH = `${BROWSER_ASSET_PREFIX}style.grass`;

/** Content types: the guide is HTML; GraSS has no registered type and Browser reads the text of any. */
export const BROWSER_ASSET_TYPES = {
  guide: 'text/html; charset=utf-8',
  style: 'text/plain; charset=utf-8',
} as const;

/**
 * Neo4j Browser fetches guides and styles from its own page (another origin: port 7474) with
 * `pragma` and `cache-control` headers, so it asks first (CORS preflight). The files hold no graph
 * data, so any origin may read them, with or without API tokens, like the explorer's files.
 */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, OPTIONS',
  'access-control-allow-headers': 'pragma, cache-control, content-type',
  'access-control-max-age': '600',
} as const;

let readmeCache: { mtimeMs: number; text: string } | undefined;

/** The README (re-read when it changes, so a running `npm start` shows edited examples). */
function readReadme(file = path.join(PROJECT_ROOT, 'README.md')): string {
  const { mtimeMs } = fs.statSync(file);
  if (readmeCache?.mtimeMs !== mtimeMs) readmeCache = { mtimeMs, text: fs.readFileSync(file, 'utf8') };
  return readmeCache.text;
}

/**
 * Serves the Neo4j Browser guide and style when `url` names one; returns false for any other path.
 * URLs inside the guide are absolute and built from the request's Host, as Browser needs them.
 */
export function serveBrowserAsset(req: http.IncomingMessage, res: http.ServerResponse, url: URL, apiPath: string): boolean {
  if (url.pathname !== BROWSER_GUIDE_PATH && url.pathname !== BROWSER_STYLE_PATH) return false;
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS).end();
    return true;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...CORS, allow: 'GET, HEAD, OPTIONS' }).end();
    return true;
  }
  const headers = { ...CORS, 'cache-control': 'no-cache' };
  if (url.pathname === BROWSER_STYLE_PATH) {
    res
      .writeHead(200, { ...headers, 'content-type': BROWSER_ASSET_TYPES.style })
      .end(req.method === 'HEAD' ? undefined : buildBrowserStyle());
    return true;
  }
  const origin = `http://${req.headers.host ?? `${url.hostname}:${url.port}`}`;
  let html: string;
  try {
    html = buildBrowserGuide({
      examples: parseCypherExamples(readReadme()),
      styleUrl: `${origin}${BROWSER_STYLE_PATH}`,
      apiUrl: `${origin}${apiPath}`,
    });
  } catch (err) {
    res
      .writeHead(404, { ...headers, 'content-type': 'text/plain; charset=utf-8' })
      .end(`no guide: README.md could not be read (${(err as Error).message})\n`);
    return true;
  }
  res.writeHead(200, { ...headers, 'content-type': BROWSER_ASSET_TYPES.guide }).end(req.method === 'HEAD' ? undefined : html);
  return true;
}
