// Runs SQL statements in one in-memory DuckDB and prints their results as JSON.
// Input (stdin): a JSON array of SQL strings. Output (stdout): a JSON array with,
// per statement, {"columns": [...], "types": [...], "rows": [{...}]}. Values go
// through the API's JSON-safe converter, so BIGINT, UBIGINT, HUGEINT and DECIMAL
// arrive as exact strings. The package is loaded from $ACODE_DUCKDB_DIR
// (default ~/.cache/acode-duckdb), where scripts/test-deps.sh installs it.
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.env.ACODE_DUCKDB_DIR || join(homedir(), '.cache', 'acode-duckdb');
const require = createRequire(join(dir, 'node_modules', 'package.json'));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);

let input = '';
for await (const chunk of process.stdin) input += chunk;
const statements = JSON.parse(input);

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const results = [];
for (const sql of statements) {
  let reader;
  try {
    reader = await connection.runAndReadAll(sql);
  } catch (err) {
    process.stderr.write(`duckdb: ${err.message}\nin: ${sql}\n`);
    process.exit(2);
  }
  results.push({
    columns: reader.columnNames(),
    types: reader.columnTypes().map((t) => t.toString()),
    rows: reader.getRowObjectsJson(),
  });
}
process.stdout.write(JSON.stringify(results));
connection.closeSync();
instance.closeSync();
