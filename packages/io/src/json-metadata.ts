import { describe, ValueError } from '@tsgrad/tensor';

/**
 * `__metadata__` holds only strings. tsgrad's convention for anything else (an optimizer's
 * hyper-parameters and step counts, a training config): one JSON document under this key.
 */
export const JSON_METADATA_KEY = 'tsgrad.json';

/** `{ "tsgrad.json": JSON.stringify(value) }`, to pass (or merge) as metadata when saving. */
export function encodeJsonMetadata(value: unknown): Record<string, string> {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    // Cyclic, too deeply nested or holding a BigInt: JSON cannot encode it.
    throw new ValueError(
      'encodeJsonMetadata',
      `cannot encode the value as JSON (${(error as Error).message})`,
    );
  }
  if (text === undefined) throw new ValueError('encodeJsonMetadata', `cannot encode ${typeof value} as JSON`);
  return { [JSON_METADATA_KEY]: text };
}

/** The JSON value stored under "tsgrad.json", or undefined when the metadata has none. */
export function decodeJsonMetadata(metadata: Record<string, string>): unknown {
  if (typeof metadata !== 'object' || metadata === null) {
    throw new ValueError('decodeJsonMetadata', `expected a metadata record, got ${describe(metadata)}`);
  }
  if (!Object.hasOwn(metadata, JSON_METADATA_KEY)) return undefined;
  try {
    return JSON.parse(metadata[JSON_METADATA_KEY]);
  } catch (error) {
    throw new ValueError(
      'decodeJsonMetadata',
      `metadata "${JSON_METADATA_KEY}" is not valid JSON (${String(error)})`,
    );
  }
}
