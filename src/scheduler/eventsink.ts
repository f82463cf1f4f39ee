/**
 * Buffers events and writes them with little concurrency, dropping new ones when the buffer is
 * full, as client-go's event broadcaster (1000-event queue, DropIfChannelFull): events never hold
 * up or compete much with bindings, and under overload some are lost, as upstream.
 */
export class EventSink<T> {
  private readonly buf: T[] = [];
  private active = 0;
  dropped = 0;

  constructor(
    private readonly write: (e: T) => Promise<void>,
    private readonly capacity = 1000,
    private readonly concurrency = 2,
  ) {}

  push(e: T): void {
    if (this.buf.length >= this.capacity) {
      this.dropped++;
      return;
    }
    this.buf.push(e);
    this.pump();
  }

  get pending(): number {
    return this.buf.length + this.active;
  }

  private pump(): void {
    while (this.active < this.concurrency && this.buf.length) {
      const e = this.buf.shift()!;
      this.active++;
      void this.write(e)
        .catch(() => undefined)
        .finally(() => {
          this.active--;
          this.pump();
        });
    }
  }
}
