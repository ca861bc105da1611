// Between the engine and the store: the engine's records are written as they change, and a
// write the disk refuses (full, read-only) neither throws into the engine (whose migration
// goes on, and whose in-memory record stays whole) nor is lost: the record waits here and
// is written at the next write, or at close. (The store tells the refusal, once.)
import type { MigrationRecord, RoundSample } from '../../preload/model';
import { StoreWriteError, type Store } from '../store/store';

type Writes = Pick<Store, 'insertMigration' | 'updateMigration' | 'addRound'>;

export class RecordKeeper {
  /** Records not yet written, by id, with whether their row exists. */
  private unsaved = new Map<string, { rec: MigrationRecord; inserted: boolean }>();
  /** Round samples dropped while the disk refused writes (the summary row is what counts). */
  droppedRounds = 0;
  /** The last refusal, while writes are refused; null once everything is written. */
  failure: StoreWriteError | null = null;

  constructor(private readonly store: Writes) {}

  insert(r: MigrationRecord): void {
    this.attempt(r.id, r, false, () => this.store.insertMigration(r));
  }

  update(r: MigrationRecord): void {
    this.attempt(r.id, r, true, () => this.store.updateMigration(r));
  }

  addRound(id: string, s: RoundSample): void {
    if (!this.flush() || this.unsaved.has(id)) {
      this.droppedRounds++;
      return;
    }
    try {
      this.store.addRound(id, s);
    } catch (e) {
      if (!this.refused(e)) throw e;
      this.droppedRounds++;
    }
  }

  /** Writes what waits; true when nothing is left waiting. */
  flush(): boolean {
    for (const [id, p] of this.unsaved) {
      try {
        if (p.inserted) this.store.updateMigration(p.rec);
        else this.store.insertMigration(p.rec);
      } catch (e) {
        if (!this.refused(e)) throw e;
        return false;
      }
      this.unsaved.delete(id);
    }
    this.failure = null;
    return true;
  }

  /** How many records are still only in memory. */
  get pending(): number {
    return this.unsaved.size;
  }

  private attempt(id: string, rec: MigrationRecord, existing: boolean, write: () => void): void {
    const waiting = this.unsaved.get(id);
    if (waiting) {
      // Its newest state replaces the one waiting; written with the others, in order.
      waiting.rec = structuredClone(rec);
      this.flush();
      return;
    }
    if (this.flush()) {
      try {
        write();
        return;
      } catch (e) {
        if (!this.refused(e)) throw e;
      }
    }
    // A refused write rolled back: an insert left no row, an update left the old one.
    this.unsaved.set(id, { rec: structuredClone(rec), inserted: existing });
  }

  private refused(e: unknown): e is StoreWriteError {
    if (!(e instanceof StoreWriteError)) return false;
    this.failure = e;
    return true;
  }
}
