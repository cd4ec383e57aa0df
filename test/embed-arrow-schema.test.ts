/**
 * The ARROW:schema entry (src/embed/arrow-schema.ts), decoded field by field with flatbuffers' reader the way
 * Arrow's generated code reads Message.fbs / Schema.fbs: framing, version, header type, fields, types, list size.
 * (scripts/parquet-compare/read-part.mjs shows arrow-rs reading a zs part as FixedSizeList<float32, d>.)
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteBuffer } from 'flatbuffers';
import { arrowSchemaEntry } from '../src/embed/arrow-schema.js';

/** A table's field slot (vtable index i): absolute position or 0 when absent. */
const slot = (bb: ByteBuffer, table: number, i: number) => { const o = bb.__offset(table, 4 + 2 * i); return o ? table + o : 0; };

function fieldsOf(bb: ByteBuffer, table: number): { name: string; nullable: boolean; typeType: number; type: number; children: number[] }[] {
  const vec = slot(bb, table, 1);
  const out = [];
  for (let i = 0; i < bb.__vector_len(vec); i++) {
    const f = bb.__indirect(bb.__vector(vec) + 4 * i);
    const kids = slot(bb, f, 5);
    out.push({
      name: bb.__string(slot(bb, f, 0)) as string,
      nullable: slot(bb, f, 1) ? bb.readInt8(slot(bb, f, 1)) === 1 : false,
      typeType: slot(bb, f, 2) ? bb.readUint8(slot(bb, f, 2)) : 0,
      type: bb.__indirect(slot(bb, f, 3)),
      children: kids ? Array.from({ length: bb.__vector_len(kids) }, (_, k) => bb.__indirect(bb.__vector(kids) + 4 * k)) : [],
    });
  }
  return out;
}

test('an encapsulated V5 Schema message: utf8 columns and a FixedSizeList<float32, d> with a non-null float child', () => {
  const raw = Buffer.from(arrowSchemaEntry([
    { name: 'key', nullable: false, type: { kind: 'utf8' } },
    { name: 'embedding', nullable: true, type: { kind: 'fixed-float32-list', size: 512 } },
    { name: 'error', nullable: true, type: { kind: 'utf8' } },
  ]), 'base64');
  assert.is(raw.readUInt32LE(0), 0xffffffff); // continuation marker
  const len = raw.readInt32LE(4);
  assert.is(len % 8, 0);
  assert.is(raw.length, 8 + len);
  const bb = new ByteBuffer(new Uint8Array(raw.subarray(8)));
  const msg = bb.readInt32(0); // root table
  assert.is(bb.readInt16(slot(bb, msg, 0)), 4); // MetadataVersion V5
  assert.is(bb.readUint8(slot(bb, msg, 1)), 1); // MessageHeader Schema
  const schema = bb.__indirect(slot(bb, msg, 2));
  assert.is(bb.readInt16(slot(bb, schema, 0)), 0); // little-endian
  const fields = fieldsOf(bb, schema);
  assert.equal(fields.map((f) => [f.name, f.nullable, f.typeType]), [['key', false, 5], ['embedding', true, 16], ['error', true, 5]]);
  const list = fields[1]!;
  assert.is(bb.readInt32(slot(bb, list.type, 0)), 512); // FixedSizeList.listSize
  assert.is(list.children.length, 1);
  const child = list.children[0]!;
  assert.is(bb.__string(slot(bb, child, 0)), 'element');
  assert.is(bb.readUint8(slot(bb, child, 2)), 3); // FloatingPoint
  assert.is(bb.readInt16(slot(bb, bb.__indirect(slot(bb, child, 3)), 0)), 1); // SINGLE
  assert.is(slot(bb, child, 1), 0); // nullable false (default)
});

test.run();
