/**
 * Preloaded (`node --import`) into a process a hostile-peer bench watches: sends its heap and
 * resident set size to the parent over IPC every 100 ms. Nothing when there is no IPC channel.
 */
const send = process.send?.bind(process);
if (send !== undefined) {
  setInterval(() => {
    const m = process.memoryUsage();
    send({ memory: { rss: m.rss, heap: m.heapUsed } });
  }, 100).unref();
}
