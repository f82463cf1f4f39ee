import { createWriteStream, type WriteStream } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Attributes, Decision } from '../auth/types.js';
import { atLeast, evaluatePolicy, type Level, type Policy, type Stage } from './policy.js';
import { observeBody } from '../body.js';
import type { UserInfo } from '../auth/types.js';

/** The user a request acts as, when it impersonates one (recorded as the event's impersonatedUser). */
const impersonated = new WeakMap<IncomingMessage, UserInfo>();

function auditUser(u: UserInfo) {
  return { username: u.name, ...(u.uid ? { uid: u.uid } : {}), groups: u.groups, ...(u.extra ? { extra: u.extra } : {}) };
}

/** Where audit events go: JSON lines to a file (upstream's log backend), or anything with write(). */
export interface AuditSink {
  write(line: string): void;
  close(): Promise<void>;
}

export function fileSink(path: string): AuditSink {
  const s: WriteStream = createWriteStream(path, { flags: 'a', mode: 0o600 });
  return {
    write: (line) => void s.write(line),
    close: () => new Promise((r) => s.end(() => r())),
  };
}

/** One request's audit record: the event fields and what the policy asked for. */
export class AuditContext {
  readonly event: any;
  private stagesDone = new Set<Stage>();

  constructor(
    private readonly log: AuditLogger,
    readonly level: Level,
    private readonly omit: Stage[],
    req: IncomingMessage,
    a: Attributes,
  ) {
    const now = new Date().toISOString();
    this.event = {
      kind: 'Event',
      apiVersion: 'audit.k8s.io/v1',
      level,
      auditID: (req.headers['audit-id'] as string | undefined) ?? randomUUID(),
      stage: 'RequestReceived',
      requestURI: req.url ?? '/',
      verb: a.verb,
      user: auditUser(a.user),
      ...(impersonated.has(req) ? { impersonatedUser: auditUser(impersonated.get(req)!) } : {}),
      sourceIPs: [req.socket.remoteAddress ?? ''],
      userAgent: req.headers['user-agent'],
      requestReceivedTimestamp: now,
      stageTimestamp: now,
    };
    if (a.resourceRequest) {
      const ref: any = { resource: a.resource };
      if (a.namespace) ref.namespace = a.namespace;
      if (a.name) ref.name = a.name;
      ref.apiGroup = a.apiGroup || undefined;
      ref.apiVersion = a.apiVersion;
      if (a.subresource) ref.subresource = a.subresource;
      this.event.objectRef = ref;
    }
  }

  get wantsRequest(): boolean {
    return atLeast(this.level, 'Request');
  }

  get wantsResponse(): boolean {
    return atLeast(this.level, 'RequestResponse');
  }

  /** The authorizer's answer, as upstream's authorization.k8s.io/decision and reason annotations. */
  decision(d: Decision): void {
    this.annotate('authorization.k8s.io/decision', d.decision === 'allow' ? 'allow' : 'forbid');
    this.annotate('authorization.k8s.io/reason', d.reason ?? '');
  }

  annotate(k: string, v: string): void {
    (this.event.annotations ??= {})[k] = v;
  }

  requestObject(obj: unknown): void {
    if (this.wantsRequest && obj !== undefined) this.event.requestObject = obj;
  }

  responseObject(obj: unknown): void {
    if (this.wantsResponse && obj !== undefined) this.event.responseObject = obj;
  }

  /** Emits the event for a stage once (stages the policy omits are skipped). */
  stage(stage: Stage, status?: { code: number; status?: string; message?: string; reason?: string }): void {
    if (this.stagesDone.has(stage) || this.omit.includes(stage)) return;
    this.stagesDone.add(stage);
    const e = { ...this.event, stage, stageTimestamp: new Date().toISOString() };
    if (status) e.responseStatus = { metadata: {}, ...status };
    if (stage === 'RequestReceived') {
      delete e.requestObject;
      delete e.responseObject;
    }
    if (stage !== 'ResponseComplete') delete e.responseObject;
    this.log.emit(e);
  }
}

/**
 * The audit log: the policy picks a level per request (None: nothing is written), and each stage
 * writes one audit.k8s.io/v1 Event as a JSON line.
 */
export class AuditLogger {
  constructor(
    private readonly policy: Policy,
    private readonly sink: AuditSink,
  ) {}

  begin(req: IncomingMessage, a: Attributes): AuditContext | undefined {
    const { level, omitStages } = evaluatePolicy(this.policy, a);
    if (level === 'None') return undefined;
    const ctx = new AuditContext(this, level, omitStages, req, a);
    ctx.stage('RequestReceived');
    return ctx;
  }

  emit(event: any): void {
    this.sink.write(`${JSON.stringify(event)}\n`);
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

/**
 * Wraps the API server's request handler with auditing, for servers without the in-handler hooks:
 * it authenticates on its own (to name the user), tees the request body for Request level, captures
 * the response for RequestResponse, sends ResponseStarted for watches, and ResponseComplete at the end.
 */
export function withAudit(log: AuditLogger, inner: RequestHandler, identify: (req: IncomingMessage) => Promise<Attributes | undefined>, decide?: (a: Attributes) => Promise<Decision>): RequestHandler {
  return async (req, res) => {
    let a: Attributes | undefined;
    try {
      a = await identify(req);
    } catch {
      a = undefined;
    }
    const ctx = a ? log.begin(req, a) : undefined;
    if (!ctx) return inner(req, res);
    if (decide && a) ctx.decision(await decide(a));
    if (ctx.wantsRequest) {
      observeBody(req, (body) => {
        const text = body.toString('utf8');
        if (/json|yaml/.test(String(req.headers['content-type'] ?? 'application/json')) && text.trim()) {
          try {
            ctx.requestObject(JSON.parse(text));
          } catch {
            /* YAML or invalid: not recorded */
          }
        }
      });
    }
    const out: Buffer[] = [];
    let code = 200;
    const writeHead = res.writeHead.bind(res) as (...args: any[]) => ServerResponse;
    (res as any).writeHead = (...args: any[]) => {
      code = args[0];
      const watch = /[?&]watch=(true|1)/.test(req.url ?? '') || (req.url ?? '').includes('/watch/');
      if (watch) ctx.stage('ResponseStarted', { code });
      return writeHead(...args);
    };
    {
      // Captured for responseStatus (all levels) and responseObject (RequestResponse); capped.
      const write = res.write.bind(res) as (...args: any[]) => boolean;
      const end = res.end.bind(res) as (...args: any[]) => ServerResponse;
      (res as any).write = (chunk: any, ...rest: any[]) => {
        if (chunk && out.length < 256) out.push(Buffer.from(chunk));
        return write(chunk, ...rest);
      };
      (res as any).end = (chunk: any, ...rest: any[]) => {
        if (chunk && typeof chunk !== 'function') out.push(Buffer.from(chunk));
        return end(chunk, ...rest);
      };
    }
    res.on('finish', () => {
      const status: any = { code };
      const body = out.length ? Buffer.concat(out).toString('utf8') : '';
      let parsed: any;
      if (body) {
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = undefined;
        }
      }
      if (parsed?.kind === 'Status') {
        status.status = parsed.status;
        if (parsed.message) status.message = parsed.message;
        if (parsed.reason) status.reason = parsed.reason;
      } else if (code >= 400) status.status = 'Failure';
      if (ctx.wantsResponse && parsed !== undefined) ctx.responseObject(parsed);
      ctx.stage('ResponseComplete', status);
    });
    return inner(req, res);
  };
}

/**
 * The audited request listener for server.ts: names the user with the authentication chain and the
 * decision with the authorization chain (both cheap next to a request), then wraps the handler.
 */
export async function auditedHandler(
  log: AuditLogger,
  handler: RequestHandler,
  chains: { authenticators: import('../auth/types.js').Authenticator[]; authorizers: import('../auth/types.js').Authorizer[] },
): Promise<RequestHandler> {
  const { authenticate, authorize, impersonate } = await import('../auth/chain.js');
  const { parseResourcePath } = await import('../request.js');
  const { requestAttributes } = await import('../handler.js');
  const identify = async (req: IncomingMessage) => {
    const user = await authenticate(chains.authenticators, req);
    // The event names the requester; who it acts as (kubectl --as) goes in impersonatedUser. A
    // refused impersonation is the handler's 403 to answer.
    const acting = await impersonate(chains.authorizers, req, user).catch(() => user);
    if (acting !== user) impersonated.set(req, acting);
    const url = new URL(req.url ?? '/', 'https://skiff');
    const p = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    return requestAttributes(req.method ?? 'GET', p, parseResourcePath(p), url.searchParams, user);
  };
  return withAudit(log, handler, identify, (a) => authorize(chains.authorizers, a));
}
