// Where user code created a tensor or a tape node (recorded in anomaly mode).

const library = /[\\/](packages[\\/](autograd|tensor)[\\/](src|dist)|node_modules)[\\/]/;
// Frames without a source file of their own (built-ins like Array.map, Node internals).
const builtin = /<anonymous>|\(native\)|\bnode:/;

/** The first stack frame outside tsgrad's own sources: where user code created something. */
export function creationSite(): string {
  // Library frames alone can exceed V8's default depth of 10 (other engines ignore this).
  const engine = Error as ErrorConstructor & { stackTraceLimit?: number };
  const limit = engine.stackTraceLimit;
  engine.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  engine.stackTraceLimit = limit;
  const frames = stack.split('\n').slice(1);
  const user = frames.find((f) => !library.test(f) && !builtin.test(f));
  return (user ?? frames[0] ?? '').trim().replace(/^at /, '');
}
