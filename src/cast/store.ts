import { and, asc, eq } from 'drizzle-orm';
import { characterNameKey, sameCharacter } from '../campaigns/character-names.ts';
import type { CastCharacter, CastCharacters } from '../campaigns/campaign.ts';
import type { SqliteStore } from '../platform/db.ts';
import { castMembers, images, type CastMemberRow, type CastStatus } from '../platform/schema.ts';

/** A character of a campaign's cast as stored. */
export type CastMember = Omit<CastMemberRow, 'nameKey' | 'updatedAt'>;

const MEMBER = {
  id: castMembers.id,
  campaignId: castMembers.campaignId,
  name: castMembers.name,
  description: castMembers.description,
  status: castMembers.status,
  portraitImageId: castMembers.portraitImageId,
};

/**
 * Campaigns' casts in the `cast_members` table: proposed, accepted and dropped characters, and the
 * current portrait of each. Read by {@link CampaignRepository} for the accepted ones.
 */
export class CastStore implements CastCharacters {
  constructor(private readonly store: SqliteStore) {}

  /** A campaign's cast members, in the order they were first proposed or added. */
  list(campaignId: string): CastMember[] {
    return this.store.db.select(MEMBER).from(castMembers).where(eq(castMembers.campaignId, campaignId)).orderBy(asc(castMembers.id)).all();
  }

  /** A member by id, or undefined. */
  get(id: number): CastMember | undefined {
    return this.store.db.select(MEMBER).from(castMembers).where(eq(castMembers.id, id)).get();
  }

  /** The member the name designates ({@link sameCharacter}: `Grog` finds `Grog Strongjaw`), or undefined. */
  find(campaignId: string, name: string): CastMember | undefined {
    const key = characterNameKey(name);
    const members = this.list(campaignId);
    return members.find((m) => characterNameKey(m.name) === key) ?? members.find((m) => sameCharacter(m.name, name));
  }

  /**
   * Records a reading's proposals: a new character is stored as `proposed`; a known one still only
   * proposed takes the new description; accepted and dropped ones stay as the owner left them.
   * @returns The members the proposals designate, in the proposals' order.
   */
  recordProposals(campaignId: string, proposals: ReadonlyArray<{ name: string; description: string }>): CastMember[] {
    return this.store.sqlite.transaction(() =>
      proposals.map((p) => {
        const known = this.find(campaignId, p.name);
        if (!known) return this.add(campaignId, p.name, p.description, 'proposed');
        if (known.status === 'proposed' && known.description !== p.description)
          return this.update(known.id, { description: p.description });
        return known;
      }),
    )();
  }

  /** Stores a new member. @returns It. */
  add(campaignId: string, name: string, description: string, status: CastStatus): CastMember {
    const row = { campaignId, name, nameKey: characterNameKey(name), description, status, updatedAt: new Date().toISOString() };
    const { id } = this.store.db.insert(castMembers).values(row).returning({ id: castMembers.id }).get();
    return this.get(id)!;
  }

  /** Changes a member's status or description; the member must exist. @returns It as it is now. */
  update(id: number, change: { status?: CastStatus; description?: string }): CastMember {
    this.store.db
      .update(castMembers)
      .set({ ...change, updatedAt: new Date().toISOString() })
      .where(eq(castMembers.id, id))
      .run();
    return this.get(id)!;
  }

  /** Makes `imageId` (a stored picture of mode `portrait`) the member's portrait. */
  setPortrait(id: number, imageId: string): void {
    this.store.db
      .update(castMembers)
      .set({ portraitImageId: imageId, updatedAt: new Date().toISOString() })
      .where(eq(castMembers.id, id))
      .run();
  }

  /** The accepted members of a campaign with their portraits' stored paths, in cast order. */
  accepted(campaignId: string): CastCharacter[] {
    return this.store.db
      .select({ name: castMembers.name, description: castMembers.description, portraitPath: images.imagePath })
      .from(castMembers)
      .leftJoin(images, eq(images.id, castMembers.portraitImageId))
      .where(and(eq(castMembers.campaignId, campaignId), eq(castMembers.status, 'accepted')))
      .orderBy(asc(castMembers.id))
      .all();
  }
}
