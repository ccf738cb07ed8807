// Preloaded (--import) into every server the serve benchmark starts: answers "start" and
// "stop" messages on the IPC channel with the bytes the process allocated on its JS heap in
// between. It measures allocation, not retained heap: v8.GCProfiler reports the heap's used
// size before and after every collection in the window, so
//   allocated = (used at stop - used at start) + sum over collections of (before - after)
// counts every object allocated in the window whether a collection freed it or not. No cost
// per request: nothing runs between the two messages but V8's own bookkeeping at each GC.
import v8 from "node:v8";

export interface AllocWindow {
  allocated_bytes: number;
  gcs: number;
}

let profiler: v8.GCProfiler | undefined;
let usedAtStart = 0;

process.on("message", (message: unknown) => {
  if (message === "alloc:start") {
    profiler = new v8.GCProfiler();
    profiler.start();
    usedAtStart = v8.getHeapStatistics().used_heap_size;
    process.send!("alloc:started");
  } else if (message === "alloc:stop" && profiler) {
    const usedAtStop = v8.getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    profiler = undefined;
    let freed = 0;
    for (const gc of statistics) {
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    }
    const window: AllocWindow = {
      allocated_bytes: usedAtStop - usedAtStart + freed,
      gcs: statistics.length,
    };
    process.send!({ alloc: window });
  }
});
// The channel must not keep a server alive on its own.
process.channel?.unref();
