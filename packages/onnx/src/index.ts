export { type Exportable, type ExportOptions, exportOnnx } from './export/export.js';
export { OnnxError, UnsupportedOperatorError } from './proto.js';
