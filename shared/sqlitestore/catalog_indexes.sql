-- The catalog's indexes on due dates (the sweep), subjects (erasure) and
-- contracts (a contract's end re-dates its records). A
-- bulk backfill drops them while it loads (Store.DropCatalogIndexes) and
-- builds them again at its end, and every Open of the store makes them if
-- they are missing (a bulk backfill that was killed), so they are kept apart
-- from schema.sql and run after it.
CREATE INDEX IF NOT EXISTS catalog_due ON catalog (region, retain_until, source, k) WHERE retain_until != '';
CREATE INDEX IF NOT EXISTS catalog_subject ON catalog (region, subject_ref);
CREATE INDEX IF NOT EXISTS catalog_contract ON catalog (region, contract) WHERE contract != '';
