package dev.millrace.cli.local;

import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.Row;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Counts over what the pipeline produced for one stage (CLI.md definitions): records in real
 * (non-filler) batch rows, dead letters raised downstream of ingest, batches, and the fill shares
 * {@code nonpad_share} = non-padding tokens / (real rows x T) and {@code trained_share} = trained
 * tokens / (real rows x T). Also decides when every accepted record is accounted for.
 */
public final class OutputTally {
    private long batches;
    private long realRows;
    private long recordsInRows;
    private long slots;
    private long nonPad;
    private long trained;
    private boolean packed;
    private long downstreamDeadLetters;
    private long ingestDeadLetters;
    private final Set<String> covered = new HashSet<>();
    private final Set<String> inRows = new HashSet<>();

    public static OutputTally of(Collection<Batch> batches, Collection<DeadLetter> deadLetters) {
        OutputTally t = new OutputTally();
        batches.forEach(t::addBatch);
        deadLetters.forEach(t::addDeadLetter);
        return t;
    }

    public void addBatch(Batch batch) {
        batches++;
        packed |= batch.getPacked();
        for (Row row : batch.getRowsList()) {
            if (row.getFiller()) {
                continue;
            }
            realRows++;
            slots += batch.getSeqLen();
            nonPad += row.getNonpadTokens();
            trained += row.getTrainedTokens();
            for (RecordRef ref : row.getRecordsList()) {
                recordsInRows++;
                covered.add(ref.getRecordId());
                inRows.add(ref.getRecordId());
            }
        }
    }

    public void addDeadLetter(DeadLetter letter) {
        if (raisedAtIngest(letter)) {
            ingestDeadLetters++;
        } else {
            downstreamDeadLetters++;
            if (!letter.getRecordId().isEmpty()) {
                covered.add(letter.getRecordId());
            }
        }
    }

    /**
     * Whether ingest raised this dead letter (its {@code service} is ingest's; a letter without a
     * service counts as ingest's when it names no input topic position, which only downstream
     * letters carry).
     */
    public static boolean raisedAtIngest(DeadLetter letter) {
        String service = letter.getService();
        if (service.isEmpty()) {
            return !letter.hasInput();
        }
        return service.equals("ingest") || service.equals("millrace-ingest");
    }

    /**
     * True when every accepted record has reached a batch row or a downstream dead letter.
     *
     * @param accepted     records ingest accepted
     * @param expectedIds  the distinct record ids of the accepted lines
     * @param idsKnown     whether {@code expectedIds} covers every accepted line (else only counts decide)
     * @param quiet        time since the last message arrived
     * @param settle       how long to wait for more once every id is covered but fewer messages than
     *                     accepted records arrived (duplicates are dropped downstream)
     */
    public boolean complete(long accepted, Set<String> expectedIds, boolean idsKnown, Duration quiet, Duration settle) {
        boolean countsReached = recordsInRows + downstreamDeadLetters >= accepted;
        if (!idsKnown) {
            return countsReached;
        }
        if (!covered.containsAll(expectedIds)) {
            return false;
        }
        return countsReached || quiet.compareTo(settle) >= 0;
    }

    /** How many of {@code expectedIds} have not arrived yet. */
    public long missing(Set<String> expectedIds) {
        return expectedIds.stream().filter(id -> !covered.contains(id)).count();
    }

    /** The CLI.md summary line. */
    public String summaryLine(String stage, long ingestRejected) {
        return String.format(Locale.ROOT, "stage=%s records=%d rejected=%d batches=%d nonpad_share=%.3f trained_share=%.3f packing=%s",
                stage, recordsInRows, ingestRejected + downstreamDeadLetters, batches, nonPadShare(), trainedShare(),
                packed ? "on" : "off");
    }

    public long batches() {
        return batches;
    }

    public long realRows() {
        return realRows;
    }

    public long recordsInRows() {
        return recordsInRows;
    }

    /** Distinct record ids found in real batch rows. */
    public Set<String> idsInRows() {
        return inRows;
    }

    public long downstreamDeadLetters() {
        return downstreamDeadLetters;
    }

    public long ingestDeadLetters() {
        return ingestDeadLetters;
    }

    public double nonPadShare() {
        return slots == 0 ? 0.0 : (double) nonPad / slots;
    }

    public double trainedShare() {
        return slots == 0 ? 0.0 : (double) trained / slots;
    }
}
