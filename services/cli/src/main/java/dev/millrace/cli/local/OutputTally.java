package dev.millrace.cli.local;

import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.Batch;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.RawRecord;
import dev.millrace.proto.v1.RecordRef;
import dev.millrace.proto.v1.WireStage;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Counts over what the pipeline produced for one stage (definitions of docs/cli.md#demo): records in real
 * (non-filler) batch rows, dead letters raised downstream of ingest, distill prompts, batches, and
 * the fill shares {@code nonpad_share} = non-padding tokens / (real rows x T) and
 * {@code trained_share} = trained tokens / (real rows x T). Also decides when every accepted record
 * is accounted for.
 *
 * <p>A record counts once however many rows carry it: a packed row names each of its records, a
 * pretrain text split into windows is counted by its window 0, and a DPO pair by its chosen row
 * (its rejected row names the same record). The shares count every real row: the windows of a
 * split text, and for DPO the chosen and the rejected rows together.
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
    private long prompts;
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
        for (BatchRow row : batch.getRowsList()) {
            if (fill(row, batch.getSeqLen())) {
                for (RecordRef ref : row.getRecordsList()) {
                    if (ref.getWindow() == 0) {
                        recordsInRows++;
                    }
                    covered.add(ref.getRecordId());
                    inRows.add(ref.getRecordId());
                }
            }
        }
        for (BatchRow row : batch.getRejectedRowsList()) {
            fill(row, batch.getSeqLen());
        }
    }

    /** Adds a real row's tokens to the fill; false for a filler row. */
    private boolean fill(BatchRow row, int seqLen) {
        if (row.getFiller()) {
            return false;
        }
        realRows++;
        slots += seqLen;
        nonPad += row.getNonpadTokens();
        trained += row.getTrainedTokens();
        return true;
    }

    /** A distillation prompt that ingest routed to the prompts topic (it ends there, for the teacher). */
    public void addPrompt(RawRecord prompt) {
        prompts++;
        covered.add(prompt.getRecordId());
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
     * The stage a dead letter belongs to: its {@code stage} field, or else the stage named by the
     * topic it was read from ({@code <prefix>.<stage>.<step>}); empty when neither tells.
     */
    public static Optional<Stage> stageOf(DeadLetter letter) {
        WireStage wire = letter.getStage();
        if (wire != WireStage.STAGE_UNSPECIFIED && wire != WireStage.UNRECOGNIZED) {
            return Optional.of(StageCodec.fromWire(wire));
        }
        String[] parts = letter.hasInput() ? letter.getInput().getTopic().split("\\.") : new String[0];
        String named = parts.length >= 3 ? parts[parts.length - 2] : "";
        return Arrays.stream(Stage.values()).filter(s -> s.id().equals(named)).findFirst();
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
     * True when every accepted record has reached a batch row, a downstream dead letter or (distill
     * prompts) the prompts topic.
     *
     * @param accepted     records that must arrive: the accepted lines, less those known to repeat an
     *                     earlier line's record id (the system drops them as duplicates)
     * @param expectedIds  the distinct record ids of the accepted lines (all or some)
     * @param idsKnown     whether {@code expectedIds} covers every accepted line that is not a prompt
     *                     (else only counts decide)
     * @param quiet        time since the last message arrived
     * @param settle       how long to wait for more once every id is covered but fewer messages than
     *                     {@code accepted} arrived (duplicates that were not known beforehand)
     */
    public boolean complete(long accepted, Set<String> expectedIds, boolean idsKnown, Duration quiet, Duration settle) {
        boolean countsReached = arrived() >= accepted;
        if (!idsKnown) {
            return countsReached;
        }
        if (!covered.containsAll(expectedIds)) {
            return false;
        }
        return countsReached || quiet.compareTo(settle) >= 0;
    }

    /** Records accounted for so far: in rows (once each), in downstream dead letters, and prompts. */
    public long arrived() {
        return recordsInRows + downstreamDeadLetters + prompts;
    }

    /** How many of {@code expectedIds} have not arrived yet. */
    public long missing(Set<String> expectedIds) {
        return expectedIds.stream().filter(id -> !covered.contains(id)).count();
    }

    /** The summary line of docs/cli.md#demo. */
    public String summaryLine(String stage, long ingestRejected) {
        return String.format(Locale.ROOT, "stage=%s records=%d rejected=%d batches=%d nonpad_share=%.3f trained_share=%.3f packing=%s",
                stage, recordsInRows, ingestRejected + downstreamDeadLetters, batches, nonPadShare(), trainedShare(),
                packed ? "on" : "off");
    }

    public long batches() {
        return batches;
    }

    /** Real (non-filler) rows, DPO rejected rows included. */
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

    /** Distillation prompts seen on the prompts topic. */
    public long prompts() {
        return prompts;
    }

    public double nonPadShare() {
        return slots == 0 ? 0.0 : (double) nonPad / slots;
    }

    public double trainedShare() {
        return slots == 0 ? 0.0 : (double) trained / slots;
    }
}
