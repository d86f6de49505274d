import { InvalidAttributeError, MissingAttributeError } from './errors.js';
import type { SsoProfile } from './profile.js';
import { normaliseEmail } from './email.js';

/** How one local field is read from the IdP's attributes: the first name in `from` that is present wins. */
export interface FieldMapping {
  readonly from: readonly string[];
  readonly required: boolean;
  /** `every-login` (the default) updates the field at each login; `on-create` sets it once. */
  readonly sync: 'on-create' | 'every-login';
  readonly multi: boolean;
}

export type FieldMappingInput =
  | string
  | readonly string[]
  | {
      from: string | readonly string[];
      required?: boolean;
      sync?: 'on-create' | 'every-login';
      multi?: boolean;
    };

/** `email` and `groups` are the engine's own fields; any other key is a profile attribute kept on the user. */
export type AttributeMapping = Readonly<Record<string, FieldMapping>>;

export type PresetName = 'okta' | 'entra' | 'entra-oidc' | 'google' | 'onelogin' | 'saml' | 'oidc';

const ENTRA = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims';
const ENTRA_MS = 'http://schemas.microsoft.com/identity/claims';

type PresetSpec = Record<string, FieldMappingInput>;

// Where each IdP puts the fields (see REFERENCE.md). The first name present wins, so a preset may
// list the names an admin commonly chooses as well as the IdP's default.
const PRESETS: Readonly<Record<PresetName, PresetSpec>> = {
  okta: {
    email: { from: ['email', 'Email', 'user.email'], required: true },
    firstName: ['firstName', 'first_name', 'givenName'],
    lastName: ['lastName', 'last_name', 'surname'],
    displayName: ['displayName', 'name'],
    groups: { from: ['groups', 'Groups'], multi: true },
  },
  entra: {
    email: { from: [`${ENTRA}/emailaddress`, `${ENTRA}/name`], required: true },
    firstName: `${ENTRA}/givenname`,
    lastName: `${ENTRA}/surname`,
    displayName: [`${ENTRA_MS}/displayname`, `${ENTRA}/name`],
    objectId: { from: `${ENTRA_MS}/objectidentifier`, sync: 'on-create' },
    tenantId: { from: `${ENTRA_MS}/tenantid`, sync: 'on-create' },
    groups: { from: ['http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'], multi: true },
  },
  'entra-oidc': {
    email: { from: ['email', 'preferred_username', 'upn'], required: true },
    firstName: 'given_name',
    lastName: 'family_name',
    displayName: 'name',
    objectId: { from: 'oid', sync: 'on-create' },
    tenantId: { from: 'tid', sync: 'on-create' },
    groups: { from: ['groups', 'roles'], multi: true },
  },
  google: {
    email: { from: ['email', 'Email', 'primaryEmail'], required: true },
    firstName: ['firstName', 'first_name', 'givenName'],
    lastName: ['lastName', 'last_name', 'familyName'],
    displayName: ['displayName', 'name'],
    groups: { from: ['groups', 'Groups'], multi: true },
  },
  onelogin: {
    email: { from: ['User.email', 'email'], required: true },
    firstName: ['User.FirstName', 'firstName'],
    lastName: ['User.LastName', 'lastName'],
    displayName: ['User.DisplayName', 'displayName'],
    groups: { from: ['memberOf', 'groups'], multi: true },
  },
  saml: {
    email: {
      from: ['urn:oid:0.9.2342.19200300.100.1.3', 'email', 'mail', `${ENTRA}/emailaddress`],
      required: true,
    },
    firstName: ['urn:oid:2.5.4.42', 'givenName', 'firstName', `${ENTRA}/givenname`],
    lastName: ['urn:oid:2.5.4.4', 'sn', 'surname', 'lastName', `${ENTRA}/surname`],
    displayName: ['urn:oid:2.16.840.1.113730.3.1.241', 'displayName'],
    groups: { from: ['urn:oid:1.3.6.1.4.1.5923.1.5.1.1', 'groups', 'memberOf'], multi: true },
  },
  oidc: {
    email: { from: 'email', required: true },
    firstName: 'given_name',
    lastName: 'family_name',
    displayName: 'name',
    groups: { from: 'groups', multi: true },
  },
};

export const PRESET_NAMES = Object.keys(PRESETS) as PresetName[];

function toFieldMapping(field: string, input: FieldMappingInput): FieldMapping {
  const spec: Exclude<FieldMappingInput, string | readonly string[]> =
    typeof input === 'string' || Array.isArray(input)
      ? { from: input as string | readonly string[] }
      : (input as never);
  const from = typeof spec.from === 'string' ? [spec.from] : [...spec.from];
  return Object.freeze({
    from: Object.freeze(from),
    required: field === 'email' ? true : (spec.required ?? false),
    sync: spec.sync ?? 'every-login',
    multi: field === 'groups' ? true : (spec.multi ?? false),
  });
}

/** The preset's mapping with the connection's overrides applied field by field (`null` removes a field). */
export function buildMapping(
  preset: PresetName,
  overrides: Readonly<Record<string, FieldMappingInput | null>> = {},
): AttributeMapping {
  const merged: Record<string, FieldMappingInput | null> = { ...PRESETS[preset], ...overrides };
  const mapping: Record<string, FieldMapping> = {};
  for (const [field, spec] of Object.entries(merged)) {
    if (spec === null) continue;
    mapping[field] = toFieldMapping(field, spec);
  }
  return Object.freeze(mapping);
}

/** What a login says about the person, after mapping. */
export interface MappedProfile {
  readonly email: string;
  readonly groups: readonly string[];
  /** Every mapped field except `email` and `groups`. */
  readonly attributes: Readonly<Record<string, string | string[]>>;
}

function values(raw: unknown): string[] {
  if (typeof raw === 'string') {
    const text = raw.trim();
    return text ? [text] : [];
  }
  const list = Array.isArray(raw) ? raw : [raw];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === 'string') {
      const text = item.trim();
      if (text) out.push(text);
    } else if (typeof item === 'number' || typeof item === 'boolean') {
      out.push(String(item));
    }
  }
  return out;
}

function lookup(attributes: Readonly<Record<string, unknown>>, names: readonly string[]): string[] | null {
  for (const name of names) {
    if (!Object.hasOwn(attributes, name)) continue;
    const found = values(attributes[name]);
    if (found.length) return found;
  }
  return null;
}

// Mappings are frozen, so their field list is computed once per mapping rather than at each login.
const fieldLists = new WeakMap<AttributeMapping, ReadonlyArray<readonly [string, FieldMapping]>>();
function fieldsOf(mapping: AttributeMapping): ReadonlyArray<readonly [string, FieldMapping]> {
  let fields = fieldLists.get(mapping);
  if (!fields) fieldLists.set(mapping, (fields = Object.entries(mapping)));
  return fields;
}

/** Applies a mapping to a profile. Missing required fields and malformed emails are refused by name. */
export function mapProfile(profile: SsoProfile, mapping: AttributeMapping): MappedProfile {
  const attributes: Record<string, string | string[]> = {};
  let email: string | null = null;
  let groups: string[] = [];
  for (const [field, spec] of fieldsOf(mapping)) {
    const found = lookup(profile.attributes, spec.from);
    if (found === null) {
      if (spec.required) throw new MissingAttributeError(field, spec.from, Object.keys(profile.attributes));
      continue;
    }
    if (field === 'email') {
      if (found.length > 1 && new Set(found.map((v) => v.toLowerCase())).size > 1) {
        throw new InvalidAttributeError('email', 'the identity provider sent several different addresses');
      }
      email = normaliseEmail(found[0]);
    } else if (field === 'groups') {
      groups = found.length > 1 ? [...new Set(found)] : found;
    } else {
      attributes[field] = spec.multi ? found : found[0]!;
    }
  }
  if (email === null) throw new MissingAttributeError('email', [], Object.keys(profile.attributes));
  return Object.freeze({ email, groups: Object.freeze(groups), attributes: Object.freeze(attributes) });
}
