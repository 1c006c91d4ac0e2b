package dev.millrace.cli.ops;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.millrace.core.record.Stage;
import dev.millrace.core.wire.StageCodec;
import dev.millrace.proto.v1.DeadLetter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Reads the dead-letter topic ({@code read_committed}, up to its end offsets) and selects dead letters. */
public final class DeadLetterScan {
    private DeadLetterScan() {
    }

    /** A dead letter and where it is on the dead-letter topic. */
    public record Entry(int partition, long offset, DeadLetter letter) {
        /** {@code PARTITION:OFFSET}, how the commands name a dead letter. */
        public String position() {
            return partition + ":" + offset;
        }

        public Stage stage() {
            return StageCodec.fromWire(letter.getStage());
        }
    }

    /**
     * Which dead letters: any of {@code positions} ({@code P:O}, or a bare offset {@code O} meaning
     * that offset in any partition), with the given reason and stage; null or empty means any.
     */
    public record Selection(List<String> positions, String reason, Stage stage) {
        public static final Selection ALL = new Selection(List.of(), null, null);

        boolean matches(Entry e) {
            if (reason != null && !reason.equals(e.letter().getReason())) {
                return false;
            }
            if (stage != null && e.letter().getStage() != StageCodec.toWire(stage)) {
                return false;
            }
            if (positions == null || positions.isEmpty()) {
                return true;
            }
            for (String p : positions) {
                if (p.contains(":") ? p.equals(e.position()) : p.equals(String.valueOf(e.offset()))) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A message of the dead-letter topic that is not a dead letter, where it is and why. */
    public record Skipped(int partition, long offset, String why) {
        @Override
        public String toString() {
            return partition + ":" + offset + " (" + why + ")";
        }
    }

    /** The selected dead letters, oldest first, and the messages that are not dead letters, in topic order. */
    public record Read(List<Entry> entries, List<Skipped> skipped) {
    }

    /**
     * Every dead letter of {@code topic} that {@code selection} matches, oldest first (by time, then
     * position), and every message that is not a dead letter: a tombstone (no value), or a value that
     * is not a {@code DeadLetter} (a foreign producer).
     */
    public static Read read(TopicScan scan, String topic, Selection selection) {
        List<Entry> entries = new ArrayList<>();
        List<Skipped> skipped = new ArrayList<>();
        scan.readAll(topic, r -> {
            if (r.value() == null) {
                skipped.add(new Skipped(r.partition(), r.offset(), "a tombstone: no value"));
                return;
            }
            DeadLetter letter;
            try {
                letter = DeadLetter.parseFrom(r.value());
            } catch (InvalidProtocolBufferException e) {
                skipped.add(new Skipped(r.partition(), r.offset(), "not a DeadLetter protobuf message"));
                return;
            }
            Entry e = new Entry(r.partition(), r.offset(), letter);
            if (selection.matches(e)) {
                entries.add(e);
            }
        });
        entries.sort(Comparator.comparingLong((Entry e) -> e.letter().getAtMs()).thenComparingInt(Entry::partition)
                .thenComparingLong(Entry::offset));
        skipped.sort(Comparator.comparingInt(Skipped::partition).thenComparingLong(Skipped::offset));
        return new Read(List.copyOf(entries), List.copyOf(skipped));
    }

    /**
     * A sentence for standard error naming the skipped messages (the first {@code shown} of them), or
     * null when none was skipped.
     */
    public static String skippedNotice(String topic, List<Skipped> skipped, int shown) {
        if (skipped.isEmpty()) {
            return null;
        }
        String listed = String.join(", ", skipped.stream().limit(shown).map(Skipped::toString).toList());
        return "skipped " + skipped.size() + " message(s) on " + topic + " that are not dead letters: " + listed
                + (skipped.size() > shown ? ", … (" + (skipped.size() - shown) + " more)" : "");
    }

    /**
     * Checks that each given position names exactly one of {@code found}.
     *
     * @return null when they do, else a sentence naming the position that is missing or ambiguous
     */
    public static String unresolved(List<String> positions, List<Entry> found) {
        for (String p : positions) {
            List<Entry> hits = found.stream().filter(e -> p.contains(":") ? p.equals(e.position()) : p.equals(String.valueOf(e.offset()))).toList();
            if (hits.isEmpty()) {
                return "no dead letter at " + p + (p.contains(":") ? "" : " in any partition") + " matches";
            }
            if (hits.size() > 1) {
                return "offset " + p + " is in several partitions (" + String.join(", ", hits.stream().map(Entry::position).toList())
                        + "); give PARTITION:OFFSET";
            }
        }
        return null;
    }
}
