/**
 * The `ARROW:schema` key-value entry of a Parquet file: the Arrow schema the file's columns stand for, as Arrow
 * writers (arrow-rs, Arrow C++ / pyarrow) store it, so Arrow readers restore types that Parquet cannot say. zs uses
 * it for one thing: the embedding column is a Parquet LIST, and this entry tells Arrow readers it is a
 * FixedSizeList<float32, d>.
 *
 * Encoding (Arrow format, Schema.fbs / Message.fbs): a Message flatbuffer (version V5, header Schema) framed as an
 * encapsulated IPC message (0xFFFFFFFF, little-endian int32 length of the padded flatbuffer, the flatbuffer padded to
 * 8 bytes), then base64.
 */
import { Builder } from 'flatbuffers';

export type ArrowType = { kind: 'utf8' } | { kind: 'fixed-float32-list'; size: number };
export interface ArrowField { name: string; nullable: boolean; type: ArrowType }

// Arrow's flatbuffer enums (Schema.fbs, Message.fbs)
const TYPE_FLOATING_POINT = 3;
const TYPE_UTF8 = 5;
const TYPE_FIXED_SIZE_LIST = 16;
const PRECISION_SINGLE = 1;
const METADATA_V5 = 4;
const HEADER_SCHEMA = 1;

/** One Field table (children first: flatbuffers are built back to front). */
function field(b: Builder, name: string, nullable: boolean, typeType: number, type: number, children: number[]): number {
  const nameOff = b.createString(name);
  b.startVector(4, children.length, 4);
  for (let i = children.length - 1; i >= 0; i--) b.addOffset(children[i]!);
  const kids = b.endVector();
  b.startObject(7);
  b.addFieldOffset(0, nameOff, 0);
  b.addFieldInt8(1, nullable ? 1 : 0, 0);
  b.addFieldInt8(2, typeType, 0);
  b.addFieldOffset(3, type, 0);
  b.addFieldOffset(5, kids, 0);
  return b.endObject();
}

function fieldOf(b: Builder, f: ArrowField): number {
  if (f.type.kind === 'utf8') {
    b.startObject(0);
    return field(b, f.name, f.nullable, TYPE_UTF8, b.endObject(), []);
  }
  b.startObject(1);
  b.addFieldInt16(0, PRECISION_SINGLE, 0);
  const float = b.endObject();
  const element = field(b, 'element', false, TYPE_FLOATING_POINT, float, []);
  b.startObject(1);
  b.addFieldInt32(0, f.type.size, 0);
  return field(b, f.name, f.nullable, TYPE_FIXED_SIZE_LIST, b.endObject(), [element]);
}

/** The base64 `ARROW:schema` value for `fields` (see the header). */
export function arrowSchemaEntry(fields: readonly ArrowField[]): string {
  const b = new Builder(512);
  const offsets = fields.map((f) => fieldOf(b, f));
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  const list = b.endVector();
  b.startObject(4);
  b.addFieldInt16(0, 0, -1); // endianness Little (0), written explicitly
  b.addFieldOffset(1, list, 0);
  const schema = b.endObject();
  b.startObject(5);
  b.addFieldInt16(0, METADATA_V5, 0);
  b.addFieldInt8(1, HEADER_SCHEMA, 0);
  b.addFieldOffset(2, schema, 0);
  b.addFieldInt64(3, 0n, -1n); // bodyLength 0
  b.finish(b.endObject());
  const fb = b.asUint8Array();
  const padded = (fb.length + 7) & ~7;
  const out = Buffer.alloc(8 + padded);
  out.writeUInt32LE(0xffffffff, 0);
  out.writeInt32LE(padded, 4);
  out.set(fb, 8);
  return out.toString('base64');
}
