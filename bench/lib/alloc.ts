/**
 * V8's sampling heap profiler over every allocation, collected or not: where a process's GC
 * pressure comes from (Node's --heap-prof keeps only what is still alive). Diagnosis only.
 */
export async function sampleAllocations(file: string): Promise<() => Promise<void>> {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as any);
  return async () => {
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as any;
    await writeFile(file, JSON.stringify(profile));
    session.disconnect();
  };
}
