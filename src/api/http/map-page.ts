import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { PROJECT_ROOT } from '../../config';

/** Path of the map page; its files are under `${MAP_PAGE_PATH}/`. */
export const MAP_PAGE_PATH = '/map';

/** Where `npm run build` puts the page (ui/build.mjs). */
const MAP_DIST = path.join(PROJECT_ROOT, 'dist', 'ui');

const MAP_ASSETS: Readonly<Record<string, string>> = {
  'map.js': 'text/javascript; charset=utf-8',
  'map.js.map': 'application/json; charset=utf-8',
  'map.css': 'text/css; charset=utf-8',
};

/**
 * Serves the map page (`/map`) and its files (`/map/map.js`, ...) from the package's build output:
 * no CDN, so it works offline. The page itself holds no graph data (it reads everything over the
 * GraphQL API, token included), so it is served without a token like the explorer's files.
 * Returns false when the request is not for the map.
 */
export function serveMapPage(req: http.IncomingMessage, res: http.ServerResponse, pathname: string, apiPath: string): boolean {
  if (pathname !== MAP_PAGE_PATH && !pathname.startsWith(`${MAP_PAGE_PATH}/`)) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' });
    res.end();
    return true;
  }
  const name = pathname.slice(MAP_PAGE_PATH.length + 1);
  if (name === '' || name === 'index.html') {
    let html: string;
    try {
      html = fs.readFileSync(path.join(MAP_DIST, 'index.html'), 'utf8');
    } catch {
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The map page is not built: run `npm run build`.\n');
      return true;
    }
    const page = html.replaceAll('%API_PATH%', apiPath).replaceAll('%ASSET_PREFIX%', `${MAP_PAGE_PATH}/`);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : page);
    return true;
  }
  const type = Object.prototype.hasOwnProperty.call(MAP_ASSETS, name) ? MAP_ASSETS[name] : undefined;
  if (!type) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
    return true;
  }
  res.writeHead(200, { 'content-type': type, 'cache-control': 'no-cache' });
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  fs.createReadStream(path.join(MAP_DIST, name))
    .on('error', () => res.destroy())
    .pipe(res);
  return true;
}
