/** A person at the local identity providers. Both IdPs serve the same people. */
export interface TestPerson {
  /** Stable subject: the OIDC `sub` and the SAML persistent NameID. Never the email. */
  readonly id: string;
  readonly email: string;
  /** What the OIDC IdP says in `email_verified`. SAML has no such statement. */
  readonly emailVerified: boolean;
  readonly givenName: string;
  readonly familyName: string;
  readonly groups: readonly string[];
  /** A deactivated person cannot sign in at the IdP. */
  readonly active: boolean;
  /** One line on the login page saying what this person is for. */
  readonly note: string;
}

export type PersonInput = Omit<TestPerson, 'active' | 'note'> & { active?: boolean; note?: string };

/** The people a fresh dev IdP starts with: one per situation the sample app shows. */
export const DEFAULT_PEOPLE: readonly PersonInput[] = [
  {
    id: 'u1001',
    email: 'alice@acme.test',
    emailVerified: true,
    givenName: 'Alice',
    familyName: 'Admin',
    groups: ['acme-admins', 'acme-staff'],
    note: 'Administrator: the acme-admins group grants the admin role.',
  },
  {
    id: 'u1002',
    email: 'bob@acme.test',
    emailVerified: true,
    givenName: 'Bob',
    familyName: 'Member',
    groups: ['acme-staff'],
    note: 'Member: the acme-staff group grants the member role.',
  },
  {
    id: 'u1003',
    email: 'erin@acme.test',
    emailVerified: true,
    givenName: 'Erin',
    familyName: 'Nogroup',
    groups: [],
    note: 'In no group: gets the default role only.',
  },
  {
    id: 'u1004',
    email: 'carol@contractor.test',
    emailVerified: true,
    givenName: 'Carol',
    familyName: 'Contractor',
    groups: ['acme-staff'],
    note: 'Email on a domain the organisation has not verified: refused.',
  },
  {
    id: 'u1005',
    email: 'dave@acme.test',
    emailVerified: false,
    givenName: 'Dave',
    familyName: 'Unverified',
    groups: ['acme-staff'],
    note: 'OIDC says his email is not verified: cannot be linked to an existing account.',
  },
];

export interface PersonChange {
  groups?: readonly string[];
  active?: boolean;
}

/** The IdPs' user directory. Changes take effect at the person's next sign-in. */
export class PeopleDirectory {
  readonly #people = new Map<string, TestPerson>();

  constructor(people: readonly PersonInput[] = DEFAULT_PEOPLE) {
    for (const input of people) {
      if (this.#people.has(input.id)) throw new Error(`Test person "${input.id}" is listed twice.`);
      this.#people.set(input.id, freeze(input));
    }
  }

  list(): TestPerson[] {
    return [...this.#people.values()];
  }

  get(id: string): TestPerson | null {
    return this.#people.get(id) ?? null;
  }

  /** Every group any person is in, sorted: what the admin page offers as checkboxes. */
  groups(): string[] {
    return [...new Set(this.list().flatMap((p) => p.groups))].sort();
  }

  update(id: string, change: PersonChange): TestPerson {
    const person = this.#people.get(id);
    if (!person) throw new Error(`No test person "${id}".`);
    const groups = change.groups ? cleanGroups(change.groups) : person.groups;
    const next = freeze({ ...person, groups, active: change.active ?? person.active });
    this.#people.set(id, next);
    return next;
  }
}

function cleanGroups(groups: readonly string[]): string[] {
  return [...new Set(groups.map((g) => g.trim()).filter(Boolean))];
}

function freeze(input: PersonInput): TestPerson {
  return Object.freeze({
    ...input,
    groups: Object.freeze(cleanGroups(input.groups)),
    active: input.active ?? true,
    note: input.note ?? '',
  });
}

export function displayName(person: TestPerson): string {
  return `${person.givenName} ${person.familyName}`;
}
