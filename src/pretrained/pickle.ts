// A small, closed pickle interpreter for PyTorch state_dicts (torch.save's data.pkl, pickle protocol 2).
// It knows the opcodes torch.save emits and exactly four globals: collections.OrderedDict,
// torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the torch.*Storage types.
// Any other global is refused by name before it could mean anything: nothing in a file is ever executed.

/** A storage a tensor points at: the zip entry `data/<key>` holding `numel` values of `dtype`. */
export interface PickledStorage {
  kind: 'storage';
  dtype: string;
  key: string;
  numel: number;
}

/** A tensor as `_rebuild_tensor_v2` describes it: a view of a storage. */
export interface PickledTensor {
  kind: 'tensor';
  storage: PickledStorage;
  offset: number;
  shape: number[];
  stride: number[];
}

/** What unpickling yields: plain values, tuples/lists as arrays, dicts as Maps, and tensors. */
export type PickleValue = null | boolean | number | string | PickleValue[] | Map<PickleValue, PickleValue> | PickledTensor | PickledStorage | PickleGlobal;

interface PickleGlobal {
  kind: 'global';
  name: string;
}

const STORAGE_TYPES: Record<string, string> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

const ALLOWED_CALLS = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter']);

/** Thrown for a pickle this reader will not interpret; the message is a sentence for the user. */
export class PickleRefused extends Error {}

const MARK = Symbol('mark');
type StackItem = PickleValue | typeof MARK;

function isTensor(v: unknown): v is PickledTensor {
  return typeof v === 'object' && v !== null && (v as PickledTensor).kind === 'tensor';
}

function asInts(v: PickleValue, what: string): number[] {
  if (!Array.isArray(v) || !v.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) {
    throw new PickleRefused(`A tensor's ${what} is not a tuple of non-negative integers.`);
  }
  return v as number[];
}

function call(fn: PickleValue, args: PickleValue): PickleValue {
  const name = (fn as PickleGlobal | null)?.kind === 'global' ? (fn as PickleGlobal).name : String(fn);
  if (!Array.isArray(args)) {
    throw new PickleRefused(`The pickle calls ${name} with arguments that are not a tuple.`);
  }
  if (name === 'collections.OrderedDict') {
    if (args.length) {
      throw new PickleRefused('The pickle builds an OrderedDict from arguments; torch.save never does.');
    }
    return new Map();
  }
  if (name === 'torch._utils._rebuild_tensor_v2') {
    const [storage, offset, size, stride] = args;
    if ((storage as PickledStorage | null)?.kind !== 'storage' || typeof offset !== 'number') {
      throw new PickleRefused('A tensor in the pickle does not point at a storage of the file.');
    }
    return { kind: 'tensor', storage: storage as PickledStorage, offset, shape: asInts(size!, 'shape'), stride: asInts(stride!, 'stride') };
  }
  if (name === 'torch._utils._rebuild_parameter') {
    if (!isTensor(args[0])) {
      throw new PickleRefused('A parameter in the pickle holds no tensor.');
    }
    return args[0];
  }
  throw new PickleRefused(`The pickle calls ${name}, which a file of weights never needs; it was not run.`);
}

/**
 * Interprets a torch.save data.pkl (protocol ≤ 2 opcodes) into values, storages and tensors. Globals other than
 * OrderedDict, the tensor rebuilders and torch.*Storage are refused with their name; nothing is executed.
 */
export function unpickle(bytes: Uint8Array): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder('utf-8', { fatal: true });
  const stack: StackItem[] = [];
  const memo = new Map<number, PickleValue>();
  let pos = 0;
  const need = (n: number): void => {
    if (pos + n > bytes.length) {
      throw new PickleRefused('The pickle ends in the middle of an instruction; the file is truncated.');
    }
  };
  const u8 = (): number => (need(1), bytes[pos++]!);
  const u16 = (): number => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const u32 = (): number => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const i32 = (): number => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) {
      throw new PickleRefused('The pickle ends in the middle of a name; the file is truncated.');
    }
    const s = text.decode(bytes.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const pop = (): PickleValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) {
      throw new PickleRefused('The pickle pops more values than it pushed; the file is damaged.');
    }
    return v;
  };
  const popMark = (): PickleValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) {
      throw new PickleRefused('The pickle closes a group it never opened; the file is damaged.');
    }
    const items = stack.splice(at) as PickleValue[];
    return items.slice(1);
  };
  const top = (): PickleValue => {
    const v = stack.at(-1);
    if (v === undefined || v === MARK) {
      throw new PickleRefused('The pickle adds to a value that is not there; the file is damaged.');
    }
    return v;
  };
  const setItems = (target: PickleValue, items: PickleValue[]): void => {
    if (!(target instanceof Map) || items.length % 2) {
      throw new PickleRefused('The pickle sets keys on something that is not a dict.');
    }
    for (let i = 0; i < items.length; i += 2) {
      target.set(items[i]!, items[i + 1]!);
    }
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 2) {
          throw new PickleRefused('The pickle uses a protocol above 2; torch.save writes protocol 2 (re-save with torch.save(state_dict, path)).');
        }
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x8a: {
        // LONG1: little-endian two's complement of n bytes (n ≤ 6 keeps it exact)
        const n = u8();
        need(n);
        if (n > 6) {
          throw new PickleRefused('The pickle holds an integer too large for a tensor shape.');
        }
        let v = 0;
        for (let i = n - 1; i >= 0; i--) {
          v = v * 256 + bytes[pos + i]!;
        }
        if (n && bytes[pos + n - 1]! & 0x80) {
          v -= 2 ** (8 * n);
        }
        pos += n;
        stack.push(v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x58: {
        // BINUNICODE
        const n = u32();
        need(n);
        stack.push(text.decode(bytes.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE (protocol 4, tolerated)
        const n = u8();
        need(n);
        stack.push(text.decode(bytes.subarray(pos, pos + n)));
        pos += n;
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x61: {
        // APPEND
        const v = pop();
        const list = top();
        if (!Array.isArray(list)) {
          throw new PickleRefused('The pickle appends to something that is not a list.');
        }
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) {
          throw new PickleRefused('The pickle appends to something that is not a list.');
        }
        list.push(...items);
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x73: {
        // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) {
          throw new PickleRefused('The pickle refers to a value it never stored; the file is damaged.');
        }
        stack.push(memo.get(key)!);
        break;
      }
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        const name = line();
        const full = `${module}.${name}`;
        if (module === 'torch' && name in STORAGE_TYPES) {
          stack.push({ kind: 'global', name: full });
        } else if (ALLOWED_CALLS.has(full)) {
          stack.push({ kind: 'global', name: full });
        } else {
          throw new PickleRefused(`The pickle refers to ${full}, which a file of weights never needs; it was not run.`);
        }
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        stack.push(call(pop(), args));
        break;
      }
      case 0x62: {
        // BUILD: state set on an object; for a state_dict it is its `_metadata` (versions), kept out of the weights.
        pop();
        if (!(top() instanceof Map)) {
          throw new PickleRefused('The pickle sets the state of an object other than a dict.');
        }
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', torch.XStorage, key, location, numel)
        const pid = pop();
        if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
          throw new PickleRefused('The pickle refers to an outside object that is not a tensor storage.');
        }
        const type = (pid[1] as PickleGlobal | null)?.name?.replace(/^torch\./, '') ?? '';
        const dtype = STORAGE_TYPES[type];
        if (!dtype || typeof pid[2] !== 'string' || typeof pid[4] !== 'number') {
          throw new PickleRefused(`The pickle refers to a storage of an unknown kind (${String(type)}).`);
        }
        stack.push({ kind: 'storage', dtype, key: pid[2], numel: pid[4] });
        break;
      }
      default:
        throw new PickleRefused(`The pickle uses opcode 0x${op.toString(16)} at byte ${pos - 1}, which torch.save does not write; it was not interpreted.`);
    }
  }
}
