import type { SsoProfile } from './profile.js';
import type { SignInAttempt } from './provisioner.js';

/** A sign-in attempt as the tracer shows it: attribute values redacted by the policy. */
export interface TracedAttempt {
  readonly at: Date;
  readonly connectionId: string;
  readonly tenantId: string | null;
  readonly subject: string | null;
  readonly outcome: string;
  readonly ok: boolean;
  readonly hint: string | null;
  readonly roles: readonly string[] | null;
  readonly test: boolean;
  /** Attribute names received, each with its values as the redaction policy shows them. */
  readonly attributes: Readonly<Record<string, readonly string[]>>;
}

/** How an attribute's values are shown: `keep` (as sent), `mask` (hidden, count kept), `email` (domain kept). */
export type Redaction = 'keep' | 'mask' | 'email';

/**
 * The default policy: group and role attributes are kept (they are what the administrator maps);
 * email-looking values keep their domain; every other value is masked.
 */
export function defaultRedaction(name: string, values: readonly string[]): Redaction {
  if (/group|role|memberof/i.test(name)) return 'keep';
  if (values.every((v) => /^[^@\s]+@[^@\s]+$/.test(v))) return 'email';
  return 'mask';
}

export interface SignInTracerOptions {
  /** How long an attempt is kept; default 7 days. */
  retentionMs?: number;
  /** At most this many attempts per connection (the newest); default 100. */
  perConnection?: number;
  redact?: (name: string, values: readonly string[]) => Redaction;
  now?: () => Date;
}

/**
 * Recent sign-in attempts per connection (the "SSO tracer"): what an administrator needs to fix a
 * connection (time, subject, decision or error code and hint, the attributes received), bounded in
 * time and number. Plug `record` into the provisioner's `onSignInAttempt`.
 */
export interface SignInTracer {
  record(attempt: SignInAttempt): void | Promise<void>;
  /** The newest first. */
  list(connectionId: string, limit?: number): Promise<TracedAttempt[]>;
  /** The profile of the connection's latest attempt that carried one, for mapping previews; never shown as such. */
  lastProfile(connectionId: string): Promise<{ at: Date; profile: SsoProfile } | null>;
}

function valuesOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value.flatMap(valuesOf);
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

/** The profile's attributes with their values redacted by `redact`. */
export function redactAttributes(
  profile: SsoProfile | null,
  redact: (name: string, values: readonly string[]) => Redaction = defaultRedaction,
): Record<string, string[]> {
  const shown: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(profile?.attributes ?? {})) {
    const values = valuesOf(value);
    const policy = redact(name, values);
    shown[name] =
      policy === 'keep'
        ? values
        : policy === 'email'
          ? values.map((v) => `•••@${v.slice(v.lastIndexOf('@') + 1)}`)
          : values.map(() => '•••');
  }
  return shown;
}

interface Kept {
  shown: TracedAttempt;
  profile: SsoProfile | null;
}

/** A tracer in this process's memory: enough for one process; each copy of an app keeps its own. */
export class MemorySignInTracer implements SignInTracer {
  private readonly attempts = new Map<string, Kept[]>();
  private readonly retentionMs: number;
  private readonly perConnection: number;
  private readonly redact: (name: string, values: readonly string[]) => Redaction;
  private readonly now: () => Date;

  constructor(options: SignInTracerOptions = {}) {
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3600_000;
    this.perConnection = options.perConnection ?? 100;
    this.redact = options.redact ?? defaultRedaction;
    this.now = options.now ?? (() => new Date());
  }

  readonly record = (attempt: SignInAttempt): void => {
    const kept = this.attempts.get(attempt.connectionId) ?? [];
    kept.unshift({
      shown: Object.freeze({
        at: attempt.at,
        connectionId: attempt.connectionId,
        tenantId: attempt.tenantId,
        subject: attempt.subject,
        outcome: attempt.outcome,
        ok: attempt.ok,
        hint: attempt.hint,
        roles: attempt.roles,
        test: attempt.test,
        attributes: redactAttributes(attempt.profile, this.redact),
      }),
      profile: attempt.profile,
    });
    this.attempts.set(attempt.connectionId, this.fresh(kept).slice(0, this.perConnection));
  };

  private fresh(kept: Kept[]): Kept[] {
    const cutoff = this.now().getTime() - this.retentionMs;
    return kept.filter((k) => k.shown.at.getTime() >= cutoff);
  }

  async list(connectionId: string, limit = 50): Promise<TracedAttempt[]> {
    return this.fresh(this.attempts.get(connectionId) ?? [])
      .slice(0, limit)
      .map((k) => k.shown);
  }

  async lastProfile(connectionId: string): Promise<{ at: Date; profile: SsoProfile } | null> {
    const found = this.fresh(this.attempts.get(connectionId) ?? []).find((k) => k.profile);
    return found ? { at: found.shown.at, profile: found.profile! } : null;
  }
}
