#!/usr/bin/env node
// A standalone node agent caps V8's young generation before anything allocates: it otherwise grows
// to 32 MB under a burst of pods and is never given back (see src/kubelet/heap.ts).
if (process.argv[2] === 'agent') (await import('../dist/src/kubelet/heap.js')).capYoungGeneration();
const { main } = await import('../dist/src/cli/main.js');
main(process.argv).catch((err) => {
  console.error(`skiff: ${err?.message ?? err}`);
  process.exit(1);
});
