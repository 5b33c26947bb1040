// Changes in a cluster: only the transfer leader (worker slot 0) changes zones. Other workers forward an UPDATE to
// it over the cluster IPC and relay its answer; after writing the file the leader has every worker rebuild that
// zone from the file and answers only once all of them serve the new version (or a timeout passed).

import type { Logger } from 'pino';
import type { JsonValue } from '../util/json.js';
import { Name } from '../wire/name.js';
import { Rcode } from '../wire/constants.js';
import type { ParseResult } from '../zone/parser.js';
import type { UpdateHandler, UpdateRequest } from './update.js';

export interface CoordinatorOptions {
  readonly leader: boolean;
  readonly slot: number;
  /** Serving processes besides this one (0 in a single process). */
  readonly others: number;
  readonly broadcast?: ((payload: JsonValue) => void) | undefined;
  /** Reload one zone's file in this process and publish it; the load errors when it failed (the old version stays). */
  readonly rebuild: (origin: Name, parsed?: ParseResult) => Promise<string | undefined>;
  readonly logger?: Logger | undefined;
  /** How long to wait for another process (forwarded UPDATE, rebuild acknowledgement); default 10 s. */
  readonly timeoutMs?: number;
}

type Obj = { readonly [k: string]: JsonValue };

export class ChangeCoordinator {
  private seq = 0;
  private readonly pending = new Map<string, (rcode: number) => void>();
  private readonly acks = new Map<string, { left: number; done: () => void }>();
  private handler: UpdateHandler | undefined;

  constructor(private readonly opts: CoordinatorOptions) {}

  /** The leader's UPDATE handler (set once the change path exists). */
  use(handler: UpdateHandler): void {
    this.handler = handler;
  }

  private get timeoutMs(): number {
    return this.opts.timeoutMs ?? 10_000;
  }

  /** Answer an UPDATE: on the leader directly, elsewhere by forwarding it to the leader. */
  update(req: UpdateRequest): Promise<number> {
    if (this.opts.leader) return this.handler ? this.handler.handle(req) : Promise.resolve(Rcode.REFUSED);
    const b = this.opts.broadcast;
    if (!b) return Promise.resolve(Rcode.SERVFAIL);
    const id = `${this.opts.slot}:${++this.seq}`;
    this.opts.logger?.debug({ event: 'update.forwarded', id, client: req.address }, 'UPDATE forwarded to the leader');
    return new Promise<number>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.opts.logger?.error({ event: 'update.forward-timeout', id }, 'the leader did not answer a forwarded UPDATE');
        resolve(Rcode.SERVFAIL);
      }, this.timeoutMs);
      this.pending.set(id, (rc) => {
        clearTimeout(timer);
        resolve(rc);
      });
      b({ t: 'change.update', id, message: Buffer.from(req.message).toString('base64'), key: req.keyName?.toString() ?? null, address: req.address });
    });
  }

  /**
   * Leader, after writing a zone file: rebuild here and in every other process, and wait for them. Resolves with the
   * error when this process could not load the file (the caller then puts the old file back).
   */
  async publish(origin: Name, parsed?: ParseResult): Promise<string | undefined> {
    const b = this.opts.broadcast;
    if (!b || this.opts.others === 0) return this.opts.rebuild(origin, parsed);
    const id = `r${++this.seq}`;
    // The others reload in parallel with this process: they read the same file, and its serial is greater than the
    // one served before, so every process arrives at the same serial (src/transfer/primary.ts effectiveSerial).
    const everywhere = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const a = this.acks.get(id);
        this.acks.delete(id);
        this.opts.logger?.warn({ event: 'change.rebuild-timeout', zone: origin.toString(), missing: a?.left }, 'not every worker confirmed the zone rebuild in time');
        resolve();
      }, this.timeoutMs);
      this.acks.set(id, {
        left: this.opts.others,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      b({ t: 'change.rebuild', id, zone: origin.toString() });
    });
    const error = await this.opts.rebuild(origin, parsed);
    await everywhere;
    return error;
  }

  /** Cluster IPC; true when the message was one of ours. */
  onMessage(payload: JsonValue): boolean {
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
    const p = payload as Obj;
    if (typeof p.t !== 'string' || !p.t.startsWith('change.') || typeof p.id !== 'string') return false;
    const id = p.id;
    switch (p.t) {
      case 'change.update': {
        if (!this.opts.leader || typeof p.message !== 'string' || typeof p.address !== 'string') return true;
        let keyName: Name | undefined;
        try {
          keyName = typeof p.key === 'string' ? Name.parse(p.key) : undefined;
        } catch {
          keyName = undefined;
        }
        const req: UpdateRequest = { message: Uint8Array.from(Buffer.from(p.message, 'base64')), keyName, address: p.address };
        void this.update(req)
          .catch(() => Rcode.SERVFAIL)
          .then((rcode) => this.opts.broadcast?.({ t: 'change.answer', id, rcode }));
        return true;
      }
      case 'change.answer': {
        const r = this.pending.get(id);
        if (r && typeof p.rcode === 'number') {
          this.pending.delete(id);
          r(p.rcode);
        }
        return true;
      }
      case 'change.rebuild': {
        if (this.opts.leader || typeof p.zone !== 'string') return true;
        const zone = p.zone;
        void (async () => {
          try {
            await this.opts.rebuild(Name.parse(zone));
          } catch (e) {
            this.opts.logger?.error({ event: 'change.rebuild-failed', zone, error: (e as Error).message }, 'zone rebuild after a change failed');
          }
          this.opts.broadcast?.({ t: 'change.rebuilt', id, slot: this.opts.slot });
        })();
        return true;
      }
      case 'change.rebuilt': {
        const a = this.acks.get(id);
        if (!this.opts.leader || !a) return true;
        if (--a.left <= 0) {
          this.acks.delete(id);
          a.done();
        }
        return true;
      }
      default:
        return false;
    }
  }
}
