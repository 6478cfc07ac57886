/**
 * Frees the memory of large typed arrays the caller is done with now, rather than at V8's
 * next full (mark-compact) collection.
 *
 * An ArrayBuffer's memory lives outside the JavaScript heap and is freed only when the
 * collector finds its ArrayBuffer object dead. A buffer that lived through a whole scan (the
 * capture reader's two read buffers, the flow table's look-up index) has been moved to the old
 * generation, which only a full collection walks, and V8 may run none for a long while:
 * measured on the analyzer benchmark, about 28 MB of such dead buffers were still held while
 * the 200,000 flow summaries were built after the scan (docs/performance.md). Transferring a
 * buffer (structuredClone with `transfer`) detaches it, leaving every view over it empty, and
 * hands its memory to a new ArrayBuffer object in the young generation; nothing keeps that
 * one, so the next minor collection (a few megabytes of allocation away) frees the memory.
 *
 * The caller must be sure nothing reads the arrays again: a view over a transferred buffer has
 * length 0 (reads give undefined, writes are dropped).
 */
export function releaseBuffers(...views: ArrayBufferView[]): void {
  const buffers = [...new Set(views.map((v) => v.buffer))].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer && b.byteLength > 0);
  if (buffers.length > 0) structuredClone(buffers, { transfer: buffers });
}
