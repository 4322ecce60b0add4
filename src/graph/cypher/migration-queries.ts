/** Cypher of the migration runner. Values only as parameters. */

/** Bootstrap: one Migration node per version, so that two processes cannot both claim one. */
export const CREATE_MIGRATION_CONSTRAINT = `
CREATE CONSTRAINT migration_version IF NOT EXISTS
FOR (m:Migration) REQUIRE m.version IS UNIQUE`;

export interface MigrationRow {
  version: number;
  name: string;
  checksum: string;
  state: 'applying' | 'applied';
  owner: string;
  claimedAt: number;
}

export const LIST_MIGRATIONS = `
MATCH (m:Migration)
RETURN m.version AS version, m.name AS name, m.checksum AS checksum, m.state AS state,
       m.owner AS owner, m.claimedAt AS claimedAt
ORDER BY version`;

/** Fails with a constraint violation when another process claimed the version first. */
export const CLAIM_MIGRATION = `
CREATE (m:Migration {version: $version, name: $name, checksum: $checksum, state: 'applying',
                     owner: $owner, claimedAt: timestamp()})`;

/**
 * The owner's heartbeat while it applies a migration: a claim renewed within the stale interval is
 * not taken over, however long the migration's statements run (a backfill of a large store).
 */
export const RENEW_MIGRATION_CLAIM = `
MATCH (m:Migration {version: $version, owner: $owner})
WHERE m.state = 'applying'
SET m.claimedAt = timestamp()`;

/** Takes over a claim whose owner has not renewed it within the stale interval (it probably died). */
export const TAKE_OVER_STALE_MIGRATION = `
MATCH (m:Migration {version: $version})
WHERE m.state = 'applying' AND m.claimedAt < timestamp() - $staleMs
SET m.owner = $owner, m.claimedAt = timestamp()
RETURN m.version AS version`;

export const FINISH_MIGRATION = `
MATCH (m:Migration {version: $version, owner: $owner})
SET m.state = 'applied', m.appliedAt = timestamp()`;
