/**
 * Per-project grouping rules from the configuration
 * (`ingest.errorGrouping.rules`, docs/errors.md "Grouping rules"), applied
 * where the fingerprint is computed, on the write path:
 *
 * ```yaml
 * ingest:
 *   errorGrouping:
 *     rules:
 *       # force: every matching error is one group, named by the rule
 *       - match: { type: "GatewayTimeout*", service: payment-service }
 *         fingerprint: payment-gateway-timeouts
 *       # merge: errors that would get one of these fingerprints get `into` instead
 *       - merge: ["3f2a9c1b7d4e5f60", "9a8b7c6d5e4f3a2b"]
 *         into: "3f2a9c1b7d4e5f60"
 * ```
 *
 * A `match` holds `*` wildcard patterns (whole value, any case) on `type`,
 * `message` (the message as sent), `module` and `function` (of any
 * grouping frame, as normalised for grouping), `service`, `tenant` and
 * `project` (the Sentry project id of the DSN); every pattern given must
 * match. The first force rule that matches wins; merges then apply to any
 * fingerprint, a client's included.
 */
import { z } from 'zod';
import type { ErrorRecord } from '../schema/error-record.ts';
import { compileNamePattern, type NamePattern } from '../schema/name-pattern.ts';
import {
  clientFingerprint,
  defaultFingerprint,
  frameFunction,
  frameInApp,
  frameModule,
  MAX_CLIENT_FINGERPRINT,
  type Fingerprint,
} from './fingerprint.ts';

const pattern = z.string().min(1).max(500);
const groupId = z.string().trim().min(1).max(MAX_CLIENT_FINGERPRINT);

const matchSchema = z
  .object({
    type: pattern.optional(),
    message: pattern.optional(),
    module: pattern.optional(),
    function: pattern.optional(),
    service: pattern.optional(),
    tenant: pattern.optional(),
    project: pattern.optional(),
  })
  .strict()
  .refine((m) => Object.values(m).some((v) => v !== undefined), { message: 'a match needs at least one pattern' });

const forceRule = z.object({ match: matchSchema, fingerprint: groupId }).strict();
const mergeRule = z
  .object({
    merge: z.array(groupId).min(1).max(1000),
    into: groupId,
    /** Only for this tenant (default: every tenant). */
    tenant: z.string().min(1).optional(),
  })
  .strict();

export const errorGroupingSchema = z
  .object({
    rules: z
      .array(z.union([forceRule, mergeRule]))
      .max(1000)
      .default([]),
  })
  .strict();

export type ErrorGroupingConfig = z.output<typeof errorGroupingSchema>;
export type ForceRule = z.output<typeof forceRule>;
export type MergeRule = z.output<typeof mergeRule>;

interface CompiledForce {
  readonly fingerprint: string;
  readonly type?: NamePattern;
  readonly message?: NamePattern;
  readonly module?: NamePattern;
  readonly function?: NamePattern;
  readonly service?: NamePattern;
  readonly tenant?: NamePattern;
  readonly project?: NamePattern;
}

function compileMatch(rule: ForceRule): CompiledForce {
  const out: Record<string, unknown> = { fingerprint: rule.fingerprint };
  for (const [key, value] of Object.entries(rule.match)) if (value !== undefined) out[key] = compileNamePattern(value);
  return out as unknown as CompiledForce;
}

/** Fingerprints errors: client fingerprint, force rules, default algorithm, then merges (see the file comment). */
export class ErrorGrouper {
  readonly #force: CompiledForce[];
  /** `tenant\0fingerprint` (tenant '' for every tenant) → the fingerprint it merges into. */
  readonly #merges = new Map<string, string>();

  constructor(config: ErrorGroupingConfig = { rules: [] }) {
    this.#force = [];
    for (const rule of config.rules) {
      if ('match' in rule) this.#force.push(compileMatch(rule));
      else
        for (const from of rule.merge)
          if (from !== rule.into) this.#merges.set(`${rule.tenant ?? ''}\0${from}`, rule.into);
    }
  }

  /** The configured merges of one tenant: fingerprint → the one it merges into. */
  mergesFor(tenant: string): Map<string, string> {
    const out = new Map<string, string>();
    for (const [key, into] of this.#merges) {
      const [t, from] = key.split('\0') as [string, string];
      if (t === '' || t === tenant) out.set(from, into);
    }
    return out;
  }

  /** The fingerprint of one occurrence of `tenant`'s error, and how it was made. */
  fingerprint(error: ErrorRecord, tenant: string): Fingerprint {
    const found = clientFingerprint(error) ?? this.#forced(error, tenant) ?? defaultFingerprint(error);
    if (this.#merges.size === 0) return found;
    const into = this.#merges.get(`${tenant}\0${found.fingerprint}`) ?? this.#merges.get(`\0${found.fingerprint}`);
    return into === undefined ? found : { fingerprint: into, basis: 'rule' };
  }

  #forced(error: ErrorRecord, tenant: string): Fingerprint | undefined {
    if (this.#force.length === 0) return undefined;
    let frames: { module: string; fn: string }[] | undefined;
    for (const rule of this.#force) {
      if (rule.type && !rule.type.test(error.type)) continue;
      if (rule.message && !rule.message.test(error.message)) continue;
      if (rule.service && !rule.service.test(error.service ?? '')) continue;
      if (rule.tenant && !rule.tenant.test(tenant)) continue;
      if (rule.project && !rule.project.test(error.project ?? '')) continue;
      if (rule.module || rule.function) {
        frames ??= inAppOrAll(error).map((f) => ({ module: frameModule(f), fn: frameFunction(f) }));
        const hit = frames.some(
          (f) => (!rule.module || rule.module.test(f.module)) && (!rule.function || rule.function.test(f.fn)),
        );
        if (!hit) continue;
      }
      return { fingerprint: rule.fingerprint, basis: 'rule' };
    }
    return undefined;
  }
}

function inAppOrAll(error: ErrorRecord): ErrorRecord['frames'] {
  const inApp = error.frames.filter(frameInApp);
  return inApp.length > 0 ? inApp : error.frames;
}
