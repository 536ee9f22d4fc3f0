export { OnnxError, UnsupportedOperatorError } from './errors.js';
export { type Exportable, type ExportOptions, exportOnnx } from './export/export.js';
export { importOnnx, type OnnxModule } from './import/import.js';
