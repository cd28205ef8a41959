// How far the JavaScript heap of a long-running process (start, serve) may grow between full garbage
// collections. Left to itself, V8 on a machine with 8 GB or more lets the old generation grow to up to four
// times what survived the last full collection before it collects again: a process that keeps 60 MB alive
// then holds 250 MB, most of it garbage (docs/benchmarks.md, "End to end"; decision 038). A factor of two is
// what V8 itself allows on machines with less memory. It is read at every collection, so it can be set here,
// after start-up; an operator who sizes the heap with node's own flags keeps them.
import v8 from 'node:v8';

/** The old generation may grow by this percent over what the last full collection kept (a factor of 2). */
export const HEAP_GROWING_PERCENT = 100;

const OPERATOR_HEAP_FLAGS =
  /--(max[-_]old[-_]space[-_]size|max[-_]heap[-_]size|heap[-_]growing[-_]percent)\b/;

/**
 * Bounds the heap's growth between full collections to HEAP_GROWING_PERCENT, unless the node flags or
 * NODE_OPTIONS already size the heap. Returns the V8 flag set, or null when the operator's flags stand.
 */
export function boundHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
  setFlags: (flags: string) => void = v8.setFlagsFromString,
): string | null {
  if (execArgv.some((a) => OPERATOR_HEAP_FLAGS.test(a)) || OPERATOR_HEAP_FLAGS.test(nodeOptions)) return null;
  const flag = `--heap-growing-percent=${HEAP_GROWING_PERCENT}`;
  setFlags(flag);
  return flag;
}
