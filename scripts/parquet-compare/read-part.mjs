/**
 * How arrow-rs (parquet-wasm) reads a zs part: prints the Arrow schema it restores (the `embedding` column should be
 * FixedSizeList[d]<Float32>, thanks to the file's ARROW:schema entry), the row count and the first row's values.
 *   npm --prefix scripts/parquet-compare install
 *   node scripts/parquet-compare/read-part.mjs out/part-00000.parquet
 */
import { readFileSync } from 'node:fs';
import * as arrow from 'apache-arrow';
import * as pw from 'parquet-wasm/node';

const table = arrow.tableFromIPC(pw.readParquet(readFileSync(process.argv[2])).intoIPCStream());
for (const f of table.schema.fields) console.log(`${f.name}: ${f.type} nullable=${f.nullable}`);
const emb = table.getChild('embedding');
console.log(`${table.numRows} rows; ${emb.nullCount} null embeddings; row 0 starts ${Array.from(emb.get(0)?.toArray() ?? []).slice(0, 3).join(', ')}`);
