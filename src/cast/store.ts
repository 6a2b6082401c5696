import { and, asc, eq } from 'drizzle-orm';
import { characterNameKey, sameCharacter } from '../campaigns/character-names.ts';
import type { CastCharacter, CastCharacters } from '../campaigns/campaign.ts';
import { writeTransaction, type Db, type Store } from '../platform/db.ts';
import type { CastMemberRow, CastStatus } from '../platform/schema.ts';

/** A character of a campaign's cast as stored. */
export type CastMember = Omit<CastMemberRow, 'nameKey' | 'updatedAt'>;

/** A member as {@link CastStore.recordProposals} leaves it: `id` undefined until a new one is inserted. */
interface Draft extends Omit<CastMember, 'id'> {
  id: number | undefined;
  changed: boolean;
}

/**
 * Campaigns' casts in the `cast_members` table: proposed, accepted and dropped characters, and the
 * current portrait of each. Read by {@link CampaignRepository} for the accepted ones.
 */
export class CastStore implements CastCharacters {
  constructor(private readonly store: Store) {}

  /** A campaign's cast members, in the order they were first proposed or added. */
  async list(campaignId: string): Promise<CastMember[]> {
    return this.listOn(this.store.db, campaignId);
  }

  /** A member by id, or undefined. */
  async get(id: number): Promise<CastMember | undefined> {
    const { castMembers } = this.store.tables;
    const [row] = await this.store.db.select(this.columns()).from(castMembers).where(eq(castMembers.id, id)).limit(1);
    return row;
  }

  /** The member the name designates ({@link sameCharacter}: `Grog` finds `Grog Strongjaw`), or undefined. */
  async find(campaignId: string, name: string): Promise<CastMember | undefined> {
    return findMember(await this.list(campaignId), name);
  }

  /**
   * Records a reading's proposals: a new character is stored as `proposed`; a known one still only
   * proposed takes the new description; accepted and dropped ones stay as the owner left them.
   * Another process recording proposals for the campaign waits, so neither adds a character twice.
   * @returns The members the proposals designate, in the proposals' order.
   */
  async recordProposals(campaignId: string, proposals: ReadonlyArray<{ name: string; description: string }>): Promise<CastMember[]> {
    if (proposals.length === 0) return [];
    const { castMembers } = this.store.tables;
    const updatedAt = new Date().toISOString();
    const insert = (tx: Db, d: Draft) =>
      tx
        .insert(castMembers)
        .values({ campaignId, name: d.name, nameKey: characterNameKey(d.name), description: d.description, status: d.status, updatedAt })
        .returning({ id: castMembers.id });
    const update = (tx: Db, d: Draft) =>
      tx.update(castMembers).set({ description: d.description, updatedAt }).where(eq(castMembers.id, d.id!));
    const picked = await writeTransaction(this.store, `cast:${campaignId}`, {
      sqlite: (tx) => {
        const { drafts, picks } = planProposals(this.listOn(tx, campaignId).all(), campaignId, proposals);
        for (const d of drafts.filter((d) => d.changed)) {
          if (d.id === undefined) d.id = insert(tx, d).get()!.id;
          else update(tx, d).run();
        }
        return picks;
      },
      postgres: async (tx) => {
        const { drafts, picks } = planProposals(await this.listOn(tx, campaignId), campaignId, proposals);
        for (const d of drafts.filter((d) => d.changed)) {
          if (d.id === undefined) d.id = (await insert(tx, d))[0]!.id;
          else await update(tx, d);
        }
        return picks;
      },
    });
    return picked.map(({ changed: _, id, ...member }) => ({ ...member, id: id! }));
  }

  /** Stores a new member. @returns It. */
  async add(campaignId: string, name: string, description: string, status: CastStatus): Promise<CastMember> {
    const { castMembers } = this.store.tables;
    const row = { campaignId, name, nameKey: characterNameKey(name), description, status, updatedAt: new Date().toISOString() };
    const [member] = await this.store.db.insert(castMembers).values(row).returning(this.columns());
    return member!;
  }

  /** Changes a member's status or description; the member must exist. @returns It as it is now. */
  async update(id: number, change: { status?: CastStatus; description?: string }): Promise<CastMember> {
    const { castMembers } = this.store.tables;
    const [member] = await this.store.db
      .update(castMembers)
      .set({ ...change, updatedAt: new Date().toISOString() })
      .where(eq(castMembers.id, id))
      .returning(this.columns());
    return member!;
  }

  /** The accepted members of a campaign with their portraits' stored paths, in cast order. */
  async accepted(campaignId: string): Promise<CastCharacter[]> {
    const { castMembers, images } = this.store.tables;
    return this.store.db
      .select({ name: castMembers.name, description: castMembers.description, portraitPath: images.imagePath })
      .from(castMembers)
      .leftJoin(images, eq(images.id, castMembers.portraitImageId))
      .where(and(eq(castMembers.campaignId, campaignId), eq(castMembers.status, 'accepted')))
      .orderBy(asc(castMembers.id));
  }

  /** The columns of a {@link CastMember}. */
  private columns() {
    const { castMembers } = this.store.tables;
    return {
      id: castMembers.id,
      campaignId: castMembers.campaignId,
      name: castMembers.name,
      description: castMembers.description,
      status: castMembers.status,
      portraitImageId: castMembers.portraitImageId,
    };
  }

  /** The query of {@link list} on `db` (the store's or a transaction's), to run as the caller needs. */
  private listOn(db: Db, campaignId: string) {
    const { castMembers } = this.store.tables;
    return db.select(this.columns()).from(castMembers).where(eq(castMembers.campaignId, campaignId)).orderBy(asc(castMembers.id));
  }
}

/** The member `name` designates: the same name key first, else {@link sameCharacter}. */
function findMember<T extends { readonly name: string }>(members: readonly T[], name: string): T | undefined {
  const key = characterNameKey(name);
  return members.find((m) => characterNameKey(m.name) === key) ?? members.find((m) => sameCharacter(m.name, name));
}

/**
 * What {@link CastStore.recordProposals} writes, decided on the cast as read: `drafts` are the
 * members after the proposals (those `changed` to write), `picks` the draft each proposal designates.
 */
function planProposals(
  members: readonly CastMember[],
  campaignId: string,
  proposals: ReadonlyArray<{ name: string; description: string }>,
): { drafts: Draft[]; picks: Draft[] } {
  const drafts: Draft[] = members.map((m) => ({ ...m, changed: false }));
  const picks = proposals.map((p) => {
    const known = findMember(drafts, p.name);
    if (!known) {
      const draft: Draft = {
        id: undefined,
        campaignId,
        name: p.name,
        description: p.description,
        status: 'proposed',
        portraitImageId: null,
        changed: true,
      };
      drafts.push(draft);
      return draft;
    }
    if (known.status === 'proposed' && known.description !== p.description) {
      known.description = p.description;
      known.changed = true;
    }
    return known;
  });
  return { drafts, picks };
}
