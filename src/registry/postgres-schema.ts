import type { SQL } from "bun";

/**
 * Every table the Postgres backend keeps, as numbered migrations. Append only:
 * a node applies the ones its database lacks, under an advisory lock so nodes
 * starting together do not race.
 */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE pods (
     id              text COLLATE "C" PRIMARY KEY,
     name            text NOT NULL,
     owner_pubkey    text NOT NULL,
     manifest_size   bigint NOT NULL,
     blob_size       bigint NOT NULL,
     created_at      timestamptz NOT NULL,
     hits            bigint NOT NULL DEFAULT 0,
     last_fetched_at timestamptz
   );
   CREATE INDEX pods_owner ON pods (owner_pubkey, id);
   CREATE TABLE pod_tombstones (id text PRIMARY KEY, deleted_at timestamptz NOT NULL);
   CREATE TABLE pod_bindings (pod_id text PRIMARY KEY, owner_pubkey text NOT NULL, bound_at timestamptz NOT NULL);
   CREATE TABLE rondevu_sessions (
     code              text PRIMARY KEY,
     origin            text NOT NULL,
     topic             text COLLATE "C" NOT NULL,
     info              text NOT NULL,
     offer             text NOT NULL,
     answer            text,
     secret            text NOT NULL,
     offer_candidates  jsonb NOT NULL DEFAULT '[]',
     answer_candidates jsonb NOT NULL DEFAULT '[]',
     created_at        bigint NOT NULL,
     expires_at        bigint NOT NULL,
     seq               bigserial
   );
   CREATE INDEX rondevu_by_topic ON rondevu_sessions (origin, topic, expires_at);
   CREATE INDEX rondevu_by_expiry ON rondevu_sessions (expires_at);
   CREATE TABLE tunnel_names (name text PRIMARY KEY, owner_pubkey text NOT NULL, created_at timestamptz NOT NULL);
   CREATE INDEX tunnel_names_owner ON tunnel_names (owner_pubkey);`,
  // Pages are checked against it when read (NULL for pods stored before it existed).
  `ALTER TABLE pods ADD COLUMN blob_sha256 text;`,
];

/** Any fixed number: the advisory lock that serializes migrations across nodes. */
const MIGRATION_LOCK = 0x67656d6d;

export async function migrate(sql: SQL): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`CREATE TABLE IF NOT EXISTS gemmapod_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`;
    const [{ done }] = await tx`SELECT COALESCE(max(version), 0)::int AS done FROM gemmapod_migrations`;
    for (let v = done as number; v < MIGRATIONS.length; v++) {
      await tx.unsafe(MIGRATIONS[v]!);
      await tx`INSERT INTO gemmapod_migrations (version) VALUES (${v + 1})`;
    }
  });
}
