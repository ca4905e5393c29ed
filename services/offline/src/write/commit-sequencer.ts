/** A place in a group's commit order, taken before the commit's files are written. */
export interface Ticket {
  readonly group: string;
  readonly sequence: bigint;
}

interface GroupQueue {
  last: bigint;
  waiting: { ticket: Ticket; wake: () => void }[];
}

/**
 * Orders the commits of each feature group. An insert takes a ticket (its sequence number, written
 * into its files) before writing, then records its commit only when every earlier ticket of the
 * group has recorded or given up. So commit ids and sequence numbers grow together, and "the
 * latest commit wins" can be decided from the files alone. Inserts into different groups never
 * wait for each other; writing files happens in parallel, only recording is in order.
 */
export class CommitSequencer {
  readonly #groups = new Map<string, GroupQueue>();

  /** A ticket above `floor` (the largest sequence already recorded) and above the clock in µs. */
  take(group: string, floor: bigint): Ticket {
    let q = this.#groups.get(group);
    if (!q) {
      q = { last: 0n, waiting: [] };
      this.#groups.set(group, q);
    }
    const now = BigInt(Date.now()) * 1000n;
    let sequence = q.last + 1n;
    if (sequence <= floor) sequence = floor + 1n;
    if (sequence < now) sequence = now;
    q.last = sequence;
    const ticket = { group, sequence };
    q.waiting.push({ ticket, wake: () => {} });
    return ticket;
  }

  /** Resolves once every earlier ticket of the group is released. */
  turn(ticket: Ticket): Promise<void> {
    const q = this.#groups.get(ticket.group)!;
    const entry = q.waiting.find((w) => w.ticket === ticket);
    if (!entry || q.waiting[0] === entry) return Promise.resolve();
    return new Promise((resolve) => (entry.wake = resolve));
  }

  release(ticket: Ticket): void {
    const q = this.#groups.get(ticket.group);
    if (!q) return;
    const i = q.waiting.findIndex((w) => w.ticket === ticket);
    if (i < 0) return;
    q.waiting.splice(i, 1);
    q.waiting[0]?.wake();
  }
}
