/**
 * The routing table: Ingress objects turned into nginx-style servers and locations the way
 * ingress-nginx's controller does (controller.go createServers/getBackendServers, then
 * updateServerLocations), so the matcher and the rendered nginx.conf see the same model.
 */
import type { Ingress, IngressBackend } from 'kubernetes-types/networking/v1.js';
import { parseLocationConfig, perRequestFeatures, DEFAULT_LOCATION_CONFIG, type LocationConfig } from './annotations/index.js';
import type { CanaryConfig } from './annotations/canary.js';

export const DEFAULT_ANNOTATION_PREFIX = 'nginx.ingress.kubernetes.io';
/** nginx's name for the catch-all server. */
export const CATCH_ALL = '_';

export type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific';

export interface BackendRef {
  namespace: string;
  service: string;
  /** Service port number or name, as written in the Ingress. */
  port: number | string;
}

export interface Location {
  /** The location's path as rendered (a Prefix `/foo` becomes `/foo/` plus an Exact `/foo`). */
  path: string;
  pathType: PathType;
  /** The path as written in the Ingress. */
  ingressPath: string;
  /** null: the default backend. */
  backend: BackendRef | null;
  /** namespace/name of the Ingress this location comes from (null for the implicit default). */
  ingress: string | null;
  isDefBackend: boolean;
  rewriteTarget: string | null;
  useRegex: boolean;
  xForwardedPrefix: string | null;
  appRoot: string | null;
  /** Every other annotation, parsed (annotations/). */
  config: LocationConfig;
  /** Nothing per request but routing: the raw fast path may serve it (set once the server is complete). */
  plain: boolean;
  /** The same over TLS, where ssl-redirect does not apply. */
  plainTls: boolean;
  /** Case-insensitive `^path` regex (regex mode only). */
  re?: RegExp;
  /** The unanchored case-insensitive rewrite regex, when the location rewrites. */
  rewriteRe?: RegExp;
}

export interface Server {
  hostname: string;
  locations: Location[];
  /** ingress-nginx's enforceRegexModifier: every location is a `~*` regex. */
  regexMode: boolean;
  /** For `*.example.com`: one label, as ingress-nginx's buildServerName renders it. */
  hostRe?: RegExp;
  /** Secret (namespace/name) with the certificate for this host, if any Ingress names one. */
  tlsSecret?: string;
  /** Some Ingress lists this host under spec.tls (ssl-redirect applies). */
  tls: boolean;
  /** Static locations by name, for nginx's exact/prefix lookup (non-regex mode). */
  exact: Map<string, Location>;
  prefix: Map<string, Location>;
}

/** A canary Ingress's backend attached to a main backend (ingress-nginx's AlternativeBackends). */
export interface Alternative {
  backend: BackendRef;
  ingress: string;
  canary: CanaryConfig;
}

export interface RoutingTable {
  servers: Map<string, Server>;
  /** Main upstream name (backendName) → its canary; only the first counts, as in ingress-nginx's balancer. */
  alternatives: Map<string, Alternative>;
  /** Wildcard servers in nginx.conf order (sorted by hostname). */
  wildcards: Server[];
  catchAll: Server;
  problems: Problem[];
}

export interface Problem {
  ingress: string;
  reason: string;
  message: string;
}

export interface TableOptions {
  annotationPrefix?: string;
}

export function ingressKey(ing: Ingress): string {
  return `${ing.metadata?.namespace ?? 'default'}/${ing.metadata?.name ?? ''}`;
}

/** Oldest first, as ingress-nginx sorts before building servers: the oldest Ingress wins a host/path conflict. */
export function sortIngresses(list: readonly Ingress[]): Ingress[] {
  return [...list].sort((a, b) => {
    const ta = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
    if (ta !== tb) return ta - tb;
    const ka = ingressKey(a);
    const kb = ingressKey(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

interface Anns {
  rewriteTarget: string | null;
  useRegex: boolean;
  xForwardedPrefix: string | null;
  appRoot: string | null;
  config: LocationConfig;
}

function annotations(ing: Ingress, prefix: string, problems: Problem[]): Anns {
  const a = ing.metadata?.annotations ?? {};
  const get = (k: string): string | undefined => a[`${prefix}/${k}`];
  const parsed = parseLocationConfig(a, prefix);
  for (const p of parsed.problems) problems.push({ ingress: ingressKey(ing), ...p });
  return {
    rewriteTarget: get('rewrite-target') ?? null,
    useRegex: get('use-regex') === 'true',
    xForwardedPrefix: get('x-forwarded-prefix') || null,
    appRoot: validAppRoot(get('app-root')),
    config: parsed.config,
  };
}

/** ingress-nginx accepts an app-root only if it is a path or URL that parses; keep it a path. */
function validAppRoot(v: string | undefined): string | null {
  if (!v) return null;
  return v.startsWith('/') ? v : null;
}

function backendRef(namespace: string, b: IngressBackend | undefined): BackendRef | null {
  const s = b?.service;
  if (!s?.name) return null;
  const port = s.port?.number ?? s.port?.name;
  if (port === undefined || port === '' || port === 0) return null;
  return { namespace, service: s.name, port };
}

export function backendName(b: BackendRef | null): string {
  return b ? `${b.namespace}-${b.service}-${b.port}` : 'upstream-default-backend';
}

function newLocation(path: string, pathType: PathType, backend: BackendRef | null, ingress: string | null, isDef: boolean): Location {
  return { path, pathType, ingressPath: path, backend, ingress, isDefBackend: isDef, rewriteTarget: null, useRegex: false, xForwardedPrefix: null, appRoot: null, config: DEFAULT_LOCATION_CONFIG, plain: true, plainTls: true };
}

function applyAnnotations(loc: Location, anns: Anns): void {
  loc.rewriteTarget = anns.rewriteTarget;
  loc.useRegex = anns.useRegex;
  loc.xForwardedPrefix = anns.xForwardedPrefix;
  loc.appRoot = anns.appRoot;
  loc.config = anns.config;
}

export function needsRewrite(loc: Location): boolean {
  return !!loc.rewriteTarget && loc.rewriteTarget !== loc.path;
}

/**
 * Builds the table from the Ingresses this controller owns. `exclude` drops Ingresses found
 * invalid (their last good version should be passed instead by the caller).
 */
export function buildTable(ingresses: readonly Ingress[], opts: TableOptions = {}): RoutingTable {
  const prefix = opts.annotationPrefix ?? DEFAULT_ANNOTATION_PREFIX;
  const problems: Problem[] = [];
  let sorted = sortIngresses(ingresses);
  const annsOf = new Map<Ingress, Anns>();
  for (const ing of sorted) annsOf.set(ing, annotations(ing, prefix, problems));
  // Invalid regexes make nginx refuse the whole configuration; ingress-nginx then keeps the old one.
  // Here only the offending Ingress is dropped, found by building until the table compiles.
  for (let attempt = 0; attempt <= sorted.length; attempt++) {
    const { table, bad } = tryBuild(sorted, annsOf);
    if (!bad) return { ...table, problems: [...problems, ...table.problems] };
    problems.push(bad);
    sorted = sorted.filter((i) => ingressKey(i) !== bad.ingress);
  }
  /* c8 ignore next */
  throw new Error('unreachable');
}

function tryBuild(all: Ingress[], annsOf: Map<Ingress, Anns>): { table: RoutingTable; bad?: Problem } {
  const problems: Problem[] = [];
  const servers = new Map<string, Server>();
  const mkServer = (hostname: string, loc: Location): Server => ({ hostname, locations: [loc], regexMode: false, tls: false, exact: new Map(), prefix: new Map() });
  servers.set(CATCH_ALL, mkServer(CATCH_ALL, newLocation('/', 'Prefix', null, null, true)));
  // Canary Ingresses create no server or location: their backends are merged afterwards.
  const sorted = all.filter((i) => !annsOf.get(i)!.config.canary.enabled);
  const canaries = all.filter((i) => annsOf.get(i)!.config.canary.enabled);

  // createServers: hosts, each with a root location on the Ingress's default backend (or the global one).
  for (const ing of sorted) {
    const ns = ing.metadata?.namespace ?? 'default';
    const def = backendRef(ns, ing.spec?.defaultBackend);
    const rules = ing.spec?.rules ?? [];
    if (def) {
      const defLoc = servers.get(CATCH_ALL)!.locations[0];
      if (defLoc.isDefBackend && rules.length === 0) {
        defLoc.isDefBackend = false;
        defLoc.backend = def;
        defLoc.ingress = ingressKey(ing);
      }
    }
    for (const rule of rules) {
      const host = rule.host || CATCH_ALL;
      if (servers.has(host)) continue;
      servers.set(host, mkServer(host, newLocation('/', 'Prefix', def, null, true)));
    }
  }
  // getBackendServers: locations per path; the first (oldest) Ingress keeps a host+path+type.
  for (const ing of sorted) {
    const ns = ing.metadata?.namespace ?? 'default';
    const anns = annsOf.get(ing)!;
    for (const rule of ing.spec?.rules ?? []) {
      const server = servers.get(rule.host || CATCH_ALL)!;
      for (const p of rule.http?.paths ?? []) {
        const backend = backendRef(ns, p.backend);
        if (!backend) continue;
        const path = p.path || '/';
        const pathType = (p.pathType ?? 'ImplementationSpecific') as PathType;
        let add = true;
        for (const loc of server.locations) {
          if (loc.path !== path) continue;
          if (loc.pathType !== pathType) break;
          add = false;
          if (!loc.isDefBackend) {
            if (loc.ingress !== ingressKey(ing)) problems.push({ ingress: ingressKey(ing), reason: 'PathConflict', message: `path ${path} of host ${server.hostname} is already served by Ingress ${loc.ingress}` });
            break;
          }
          loc.backend = backend;
          loc.isDefBackend = false;
          loc.ingress = ingressKey(ing);
          loc.pathType = pathType;
          applyAnnotations(loc, anns);
          break;
        }
        if (add) {
          const loc = newLocation(path, pathType, backend, ingressKey(ing), false);
          applyAnnotations(loc, anns);
          server.locations.push(loc);
        }
      }
    }
    for (const tls of ing.spec?.tls ?? []) {
      for (const h of tls.hosts ?? []) {
        const s = servers.get(h);
        if (s) s.tls = true;
        if (s && tls.secretName && !s.tlsSecret) s.tlsSecret = `${ns}/${tls.secretName}`;
      }
    }
  }
  for (const s of servers.values()) {
    // Path descending, then (stable) length descending.
    s.locations.sort((a, b) => (a.path > b.path ? -1 : a.path < b.path ? 1 : 0));
    s.locations.sort((a, b) => b.path.length - a.path.length);
    s.locations = updateServerLocations(s.locations);
    s.regexMode = s.locations.some((l) => needsRewrite(l) || l.useRegex);
    for (const l of s.locations) {
      if (needsRewrite(l)) {
        try {
          l.rewriteRe = new RegExp(l.path, 'i');
        } catch (e) {
          return { table: undefined as never, bad: { ingress: l.ingress ?? '', reason: 'InvalidRegex', message: `path ${JSON.stringify(l.path)}: ${(e as Error).message}` } };
        }
      }
      if (s.regexMode) {
        try {
          l.re = new RegExp('^' + l.path, 'i');
        } catch (e) {
          return { table: undefined as never, bad: { ingress: l.ingress ?? '', reason: 'InvalidRegex', message: `path ${JSON.stringify(l.path)}: ${(e as Error).message}` } };
        }
      } else if (l.pathType === 'Exact') {
        if (!s.exact.has(l.path)) s.exact.set(l.path, l);
      } else if (!s.prefix.has(l.path)) {
        s.prefix.set(l.path, l);
      }
    }
    if (s.hostname.startsWith('*.')) {
      const rest = s.hostname.slice(2).split('.').map(escapeRe).join('\\.');
      s.hostRe = new RegExp(`^[\\w-]+\\.${rest}$`, 'i');
    }
  }
  const alternatives = mergeCanaries(canaries, annsOf, servers, problems);
  for (const s of servers.values()) {
    for (const l of s.locations) {
      l.plainTls = !perRequestFeatures(l.config) && !alternatives.has(backendName(l.backend));
      l.plain = l.plainTls && !(s.tls && l.config.redirect.sslRedirect);
    }
  }
  const wildcards = [...servers.values()].filter((s) => s.hostRe).sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
  return { table: { servers, alternatives, wildcards, catchAll: servers.get(CATCH_ALL)!, problems } };
}

/**
 * ingress-nginx's mergeAlternativeBackends: each canary path finds the main location with the same
 * host, path and type, and its backend becomes an alternative of that location's upstream (so of
 * every location proxying to it). A canary's spec.defaultBackend becomes the alternative of every
 * upstream of the catch-all server (`_`: host-less rules and a main Ingress's defaultBackend),
 * except the global default backend, which takes no canary.
 */
function mergeCanaries(canaries: Ingress[], annsOf: Map<Ingress, Anns>, servers: Map<string, Server>, problems: Problem[]): Map<string, Alternative> {
  const out = new Map<string, Alternative>();
  for (const ing of canaries) {
    const ns = ing.metadata?.namespace ?? 'default';
    const canary = annsOf.get(ing)!.config.canary;
    const def = backendRef(ns, ing.spec?.defaultBackend);
    if (def) {
      const alt = backendName(def);
      let merged = false;
      let samePrimary = false;
      for (const l of servers.get(CATCH_ALL)!.locations) {
        if (!l.backend) continue;
        const name = backendName(l.backend);
        // The canary's service is the primary of another Ingress: ingress-nginx stops here.
        if (name === alt) {
          samePrimary = true;
          break;
        }
        if (!out.has(name)) out.set(name, { backend: def, ingress: ingressKey(ing), canary });
        merged = true;
      }
      if (!merged && !samePrimary) problems.push({ ingress: ingressKey(ing), reason: 'CanaryWithoutMain', message: 'no main Ingress gives the catch-all server a backend; the canary default backend is ignored' });
    }
    for (const rule of ing.spec?.rules ?? []) {
      const server = servers.get(rule.host || CATCH_ALL);
      for (const p of rule.http?.paths ?? []) {
        const backend = backendRef(ns, p.backend);
        if (!backend) continue;
        const path = p.path || '/';
        const pathType = (p.pathType ?? 'ImplementationSpecific') as PathType;
        const main = server?.locations.find((l) => l.ingressPath === path && l.pathType === pathType && l.backend);
        if (!main) {
          problems.push({ ingress: ingressKey(ing), reason: 'CanaryWithoutMain', message: `no main Ingress serves host ${rule.host || '*'} path ${path}; the canary is ignored` });
          continue;
        }
        const name = backendName(main.backend);
        if (backendName(backend) === name) continue;
        if (!out.has(name)) out.set(name, { backend, ingress: ingressKey(ing), canary });
      }
    }
  }
  return out;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A non-regex Prefix `/foo` becomes `location /foo/` plus `location = /foo` (unless an Exact `/foo` exists). */
function updateServerLocations(locations: Location[]): Location[] {
  const exact = new Set(locations.filter((l) => l.pathType === 'Exact').map((l) => l.path));
  const out: Location[] = [];
  for (const l of locations) {
    if (l.path === '/' || l.pathType !== 'Prefix' || needsRewrite(l) || l.useRegex) {
      out.push(l);
      continue;
    }
    const original = l.path;
    const normalized = original.endsWith('/') ? original : original + '/';
    if (exact.has(original)) {
      out.push({ ...l, path: normalized });
      continue;
    }
    out.push({ ...l, path: normalized });
    out.push({ ...l, pathType: 'Exact' });
  }
  return out;
}
