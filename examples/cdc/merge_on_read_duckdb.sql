-- Merge-on-read of a CDC stream in DuckDB: the table as of the change log's
-- last commit, without waiting for tonight's `acode cdc compact`.
--
-- It reads the stream's last compacted snapshot (STREAM/cog_dt_ingestion=DAY/)
-- and the change log from that snapshot's day on (STREAM_cdc/...), keeps the
-- newest version of each primary key by GTID order (_acode_gtid_seq, then
-- _acode_txn_seq: one GTID domain), and leaves deletes out, and every change
-- of a transaction a failover rewind retracted (a GTID with an `x` row).
-- Changes of the snapshot's own day that the snapshot already holds are the
-- same versions, so reading them again changes nothing.
--
-- Replace {snapshot} and {changes} with the two tables' globs, e.g.
--   s3://bucket/bronze/diario/*/*.parquet and s3://bucket/bronze/diario_cdc/*/*.parquet,
-- and idpk with the stream's primary key.
WITH snap AS (
    SELECT * FROM read_parquet('{snapshot}', hive_partitioning = true, union_by_name = true)
),
changes AS (
    SELECT * FROM read_parquet('{changes}', hive_partitioning = true, union_by_name = true)
),
last_day AS (
    SELECT max(cog_dt_ingestion) AS d FROM snap
),
retracted AS (
    SELECT DISTINCT _acode_gtid FROM changes WHERE _acode_op = 'x'
),
versions AS (
    SELECT * FROM snap WHERE cog_dt_ingestion = (SELECT d FROM last_day)
    UNION ALL BY NAME
    SELECT * FROM changes WHERE cog_dt_ingestion >= coalesce((SELECT d FROM last_day), DATE '1970-01-01')
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY idpk ORDER BY _acode_gtid_seq DESC, _acode_txn_seq DESC) AS _rn
    FROM versions
    WHERE _acode_gtid NOT IN (SELECT _acode_gtid FROM retracted)
)
SELECT * EXCLUDE (_rn, cog_dt_ingestion) FROM ranked WHERE _rn = 1 AND _acode_op <> 'd';
