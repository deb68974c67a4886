package dev.tfs.journal;

/**
 * An intent recorded in the journal and not yet resolved by a commit or an abort.
 *
 * @param id the intent id, unique within the journal (survives restarts); pass it to {@link
 *     JournalWriter#commit} or {@link JournalWriter#abort}
 * @param record what the op was going to do
 */
public record Intent(long id, IntentRecord record) {
  @Override
  public String toString() {
    return "intent " + id + " " + record;
  }
}
