export { SafetensorsError } from './errors.js';
export { DEFAULT_MAX_HEADER_SIZE } from './header.js';
export { decodeJsonMetadata, encodeJsonMetadata, JSON_METADATA_KEY } from './json-metadata.js';
export { type FromBytesOptions, fromBytes, type SafetensorsContents } from './read.js';
export { type StateDict, toBytes } from './write.js';
