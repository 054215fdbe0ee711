-- Merge-on-read view of a CDC stream in Athena (Trino SQL): the table as of
-- the change log's last commit, between two runs of `acode cdc compact`.
--
-- farmarcas_si_analitico_diario is the stream's compacted snapshot table and
-- farmarcas_si_analitico_diario_cdc its change
-- log, both partitioned by cog_dt_ingestion (the bronze layout; register them
-- with a Glue crawler or partition projection). A snapshot has the change
-- log's columns, so the two read alike. The view keeps the newest version of
-- each primary key by GTID order (one GTID domain) from the last snapshot and
-- the changes from its day on, deletes left out, and every change of a
-- transaction a failover rewind retracted (a GTID with an `x` row).
CREATE OR REPLACE VIEW farmarcas_si_analitico_diario_current AS
WITH last_day AS (
    SELECT max(cog_dt_ingestion) AS d FROM farmarcas_si_analitico_diario
),
retracted AS (
    SELECT DISTINCT _acode_gtid FROM farmarcas_si_analitico_diario_cdc WHERE _acode_op = 'x'
),
versions AS (
    SELECT idpk, ACODE_Val_Total, CNPJ, Data, EAN, NF_Numero, Qtd_Trib,
           _ab_cdc_updated_at, _acode_op, _acode_gtid, _acode_gtid_seq, _acode_txn_seq
    FROM farmarcas_si_analitico_diario WHERE cog_dt_ingestion = (SELECT d FROM last_day)
    UNION ALL
    SELECT idpk, ACODE_Val_Total, CNPJ, Data, EAN, NF_Numero, Qtd_Trib,
           _ab_cdc_updated_at, _acode_op, _acode_gtid, _acode_gtid_seq, _acode_txn_seq
    FROM farmarcas_si_analitico_diario_cdc
    WHERE cog_dt_ingestion >= coalesce((SELECT d FROM last_day), '1970-01-01')
),
ranked AS (
    SELECT *, row_number() OVER (PARTITION BY idpk ORDER BY _acode_gtid_seq DESC, _acode_txn_seq DESC) AS rn
    FROM versions
    WHERE _acode_gtid NOT IN (SELECT _acode_gtid FROM retracted)
)
SELECT idpk, ACODE_Val_Total, CNPJ, Data, EAN, NF_Numero, Qtd_Trib, _ab_cdc_updated_at, _acode_gtid
FROM ranked WHERE rn = 1 AND _acode_op <> 'd';
