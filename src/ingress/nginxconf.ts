/**
 * Renders a routing table as nginx.conf the way ingress-nginx's template does (one server per
 * host, its locations in table order, `~*` regex locations in regex mode, `rewrite … break`,
 * server-level app-root `if`). Used by the differential test and the benchmark, never to serve.
 */
import { backendName, needsRewrite, type RoutingTable } from './table.js';
import type { Endpoint } from './dataplane.js';

export interface NginxRenderOptions {
  dir: string;
  /** One listen port per table; tables render side by side in one nginx process. */
  sites: { table: RoutingTable; port: number; endpoints: Record<string, Endpoint[]>; defaultBackend: Endpoint; tls?: { port: number; certFile: string; keyFile: string } }[];
  workers?: number;
  host?: string;
}

const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** nginx refuses two static locations with the same modifier and path ("duplicate location"). */
export function nginxDuplicate(table: RoutingTable): string | undefined {
  for (const s of table.servers.values()) {
    if (s.regexMode) continue;
    const seen = new Set<string>();
    for (const l of s.locations) {
      const k = (l.pathType === 'Exact' ? '= ' : '') + l.path;
      if (seen.has(k)) return `${s.hostname}: duplicate location ${k}`;
      seen.add(k);
    }
  }
  return undefined;
}

export function renderNginxConf(o: NginxRenderOptions): string {
  const host = o.host ?? '127.0.0.1';
  const out: string[] = [];
  out.push(`worker_processes ${o.workers ?? 1};`, `pid ${o.dir}/nginx.pid;`, `error_log ${o.dir}/error.log warn;`, 'daemon off;', 'events { worker_connections 4096; }', 'http {');
  out.push('  access_log off;', `  client_body_temp_path ${o.dir}/body;`, `  proxy_temp_path ${o.dir}/proxy;`, `  fastcgi_temp_path ${o.dir}/fastcgi;`, `  uwsgi_temp_path ${o.dir}/uwsgi;`, `  scgi_temp_path ${o.dir}/scgi;`);
  out.push('  server_names_hash_bucket_size 128;', '  keepalive_requests 100000;');
  o.sites.forEach((site, i) => {
    const ups = new Map<string, Endpoint[]>([['upstream-default-backend', [site.defaultBackend]]]);
    for (const s of site.table.servers.values()) for (const l of s.locations) if (l.backend) ups.set(backendName(l.backend), site.endpoints[backendName(l.backend)] ?? []);
    const upName = new Map<string, string>();
    let n = 0;
    for (const [name, eps] of ups) {
      const u = `s${i}_u${n++}`;
      upName.set(name, u);
      out.push(`  upstream ${u} {`);
      if (eps.length) for (const e of eps) out.push(`    server ${e.address}:${e.port};`);
      else out.push('    server 127.0.0.1:1 down;');
      out.push('    keepalive 64;', '  }');
    }
    const servers = [...site.table.servers.values()].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
    for (const s of servers) {
      out.push('  server {');
      out.push(`    listen ${host}:${site.port}${s.hostname === '_' ? ' default_server' : ''};`);
      if (site.tls) out.push(`    listen ${host}:${site.tls.port} ssl${s.hostname === '_' ? ' default_server' : ''};`, `    ssl_certificate ${site.tls.certFile};`, `    ssl_certificate_key ${site.tls.keyFile};`);
      const name = s.hostname.startsWith('*.') ? q(`~^(?<subdomain>[\\w-]+)\\.${s.hostname.slice(2).split('.').join('\\.')}$`) : s.hostname;
      out.push(`    server_name ${name};`);
      for (const l of s.locations) {
        if (l.appRoot) out.push(`    if ($uri = /) { return 302 $scheme://$http_host${l.appRoot}; }`);
        const mod = s.regexMode ? `~* ${q('^' + l.path)}` : l.pathType === 'Exact' ? `= ${q(l.path)}` : q(l.path);
        out.push(`    location ${mod} {`);
        if (needsRewrite(l)) {
          out.push(`      rewrite ${q('(?i)' + l.path)} ${l.rewriteTarget} break;`);
          if (l.xForwardedPrefix) out.push(`      proxy_set_header X-Forwarded-Prefix ${q(l.xForwardedPrefix)};`);
        }
        out.push('      proxy_set_header Host $http_host;', '      proxy_http_version 1.1;', '      proxy_set_header Connection "";', `      proxy_pass http://${upName.get(backendName(l.backend))};`, '    }');
      }
      out.push('  }');
    }
  });
  out.push('}');
  return out.join('\n') + '\n';
}
