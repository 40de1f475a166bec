// The subset of ONNX's protobuf schema (onnx/onnx.proto, IR version 3 onwards) that a feed-forward image
// classifier uses, as a protobufjs reflection root, with typed decode and encode. Field numbers follow
// onnx.proto exactly; fields we never read are left out and skipped by the decoder.
import protobuf from 'protobufjs';

/** ONNX TensorProto.DataType values we read or write. */
export const OnnxDataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, BOOL: 9, DOUBLE: 11 } as const;

/** ONNX AttributeProto.AttributeType values. */
export const OnnxAttributeType = {
  FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8,
} as const;

/** A tensor as stored in a model: shape, element type and data (raw little-endian bytes or typed fields). */
export interface OnnxTensor {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  rawData?: Uint8Array;
  /** Set when the data lives in a separate file (we refuse such models with a message). */
  externalData?: OnnxStringEntry[];
  dataLocation?: number;
}

/** One node attribute; exactly one value field is set, named by `type`. */
export interface OnnxAttribute {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

/** One operator application. */
export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  opType: string;
  domain?: string;
  attribute?: OnnxAttribute[];
}

/** One dimension: a fixed size or a symbolic name such as "batch". */
export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
}

/** A graph input or output: name, element type and shape. */
export interface OnnxValueInfo {
  name: string;
  type?: { tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } } };
  docString?: string;
}

/** A computation graph. */
export interface OnnxGraph {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  docString?: string;
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
}

/** A key/value pair (metadata_props, external_data). */
export interface OnnxStringEntry {
  key: string;
  value: string;
}

/** The file's top-level message. */
export interface OnnxModel {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: OnnxGraph;
  opsetImport?: { domain?: string; version?: number }[];
  metadataProps?: OnnxStringEntry[];
}

const schema = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        OperatorSetIdProto: { fields: { domain: { type: 'string', id: 1 }, version: { type: 'int64', id: 2 } } },
        TensorProto: {
          fields: {
            dims: { rule: 'repeated', type: 'int64', id: 1 },
            dataType: { type: 'int32', id: 2 },
            floatData: { rule: 'repeated', type: 'float', id: 4, options: { packed: true } },
            int32Data: { rule: 'repeated', type: 'int32', id: 5, options: { packed: true } },
            stringData: { rule: 'repeated', type: 'bytes', id: 6 },
            int64Data: { rule: 'repeated', type: 'int64', id: 7, options: { packed: true } },
            name: { type: 'string', id: 8 },
            rawData: { type: 'bytes', id: 9 },
            doubleData: { rule: 'repeated', type: 'double', id: 10, options: { packed: true } },
            docString: { type: 'string', id: 12 },
            externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
            dataLocation: { type: 'int32', id: 14 },
          },
        },
        AttributeProto: {
          fields: {
            name: { type: 'string', id: 1 },
            f: { type: 'float', id: 2 },
            i: { type: 'int64', id: 3 },
            s: { type: 'bytes', id: 4 },
            t: { type: 'TensorProto', id: 5 },
            g: { type: 'GraphProto', id: 6 },
            floats: { rule: 'repeated', type: 'float', id: 7 },
            ints: { rule: 'repeated', type: 'int64', id: 8 },
            strings: { rule: 'repeated', type: 'bytes', id: 9 },
            docString: { type: 'string', id: 13 },
            type: { type: 'int32', id: 20 },
          },
        },
        NodeProto: {
          fields: {
            input: { rule: 'repeated', type: 'string', id: 1 },
            output: { rule: 'repeated', type: 'string', id: 2 },
            name: { type: 'string', id: 3 },
            opType: { type: 'string', id: 4 },
            attribute: { rule: 'repeated', type: 'AttributeProto', id: 5 },
            docString: { type: 'string', id: 6 },
            domain: { type: 'string', id: 7 },
          },
        },
        TensorShapeProto: {
          fields: { dim: { rule: 'repeated', type: 'Dimension', id: 1 } },
          nested: {
            Dimension: {
              fields: {
                dimValue: { type: 'int64', id: 1 },
                dimParam: { type: 'string', id: 2 },
                denotation: { type: 'string', id: 3 },
              },
            },
          },
        },
        TypeProto: {
          fields: { tensorType: { type: 'Tensor', id: 1 }, denotation: { type: 'string', id: 6 } },
          nested: {
            Tensor: { fields: { elemType: { type: 'int32', id: 1 }, shape: { type: 'TensorShapeProto', id: 2 } } },
          },
        },
        ValueInfoProto: {
          fields: {
            name: { type: 'string', id: 1 },
            type: { type: 'TypeProto', id: 2 },
            docString: { type: 'string', id: 3 },
          },
        },
        GraphProto: {
          fields: {
            node: { rule: 'repeated', type: 'NodeProto', id: 1 },
            name: { type: 'string', id: 2 },
            initializer: { rule: 'repeated', type: 'TensorProto', id: 5 },
            docString: { type: 'string', id: 10 },
            input: { rule: 'repeated', type: 'ValueInfoProto', id: 11 },
            output: { rule: 'repeated', type: 'ValueInfoProto', id: 12 },
            valueInfo: { rule: 'repeated', type: 'ValueInfoProto', id: 13 },
          },
        },
        ModelProto: {
          fields: {
            irVersion: { type: 'int64', id: 1 },
            producerName: { type: 'string', id: 2 },
            producerVersion: { type: 'string', id: 3 },
            domain: { type: 'string', id: 4 },
            modelVersion: { type: 'int64', id: 5 },
            docString: { type: 'string', id: 6 },
            graph: { type: 'GraphProto', id: 7 },
            opsetImport: { rule: 'repeated', type: 'OperatorSetIdProto', id: 8 },
            metadataProps: { rule: 'repeated', type: 'StringStringEntryProto', id: 14 },
          },
        },
      },
    },
  },
};

const root = protobuf.Root.fromJSON(schema);
const modelType = root.lookupType('onnx.ModelProto');

/** Decodes an .onnx file's bytes; throws a sentence when they are not an ONNX model. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModel {
  let message: protobuf.Message;
  try {
    message = modelType.decode(bytes);
  } catch (error) {
    throw new Error(`This file is not an ONNX model (its protobuf does not parse: ${(error as Error).message}).`);
  }
  const model = modelType.toObject(message, { longs: Number, bytes: Uint8Array, defaults: false }) as OnnxModel;
  if (!model.graph || !(model.graph.node ?? []).length) {
    throw new Error('This file is not an ONNX model (it has no graph).');
  }
  return model;
}

/** Encodes a model to the bytes of an .onnx file. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const problem = modelType.verify(model);
  if (problem) {throw new Error(`internal: the ONNX model does not fit the schema: ${problem}`);}
  return modelType.encode(modelType.fromObject(model)).finish();
}

/** The tensor's values as float32, whichever field holds them (raw little-endian bytes or float_data). */
export function onnxTensorFloats(tensor: OnnxTensor): Float32Array {
  const count = (tensor.dims ?? []).reduce((a, b) => a * b, 1);
  if (tensor.dataLocation === 1 || (tensor.externalData ?? []).length) {
    throw new Error(`Tensor ${tensor.name ?? '(unnamed)'} keeps its data in a separate file; save the model with its weights inside.`);
  }
  if (tensor.dataType !== undefined && tensor.dataType !== OnnxDataType.FLOAT) {
    throw new Error(`Tensor ${tensor.name ?? '(unnamed)'} holds data type ${tensor.dataType}, not float32.`);
  }
  let values: Float32Array;
  if (tensor.rawData && tensor.rawData.byteLength) {
    const raw = tensor.rawData;
    const copy = new Uint8Array(raw.byteLength);
    copy.set(raw);
    values = new Float32Array(copy.buffer);
  } else {
    values = Float32Array.from(tensor.floatData ?? []);
  }
  if (values.length !== count) {
    throw new Error(`Tensor ${tensor.name ?? '(unnamed)'} has ${values.length} values for shape [${(tensor.dims ?? []).join(', ')}].`);
  }
  return values;
}

/** A float32 tensor with its data as raw little-endian bytes (how exporters store weights). */
export function floatTensor(name: string, dims: number[], values: Float32Array): OnnxTensor {
  return {
    name,
    dims,
    dataType: OnnxDataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}
