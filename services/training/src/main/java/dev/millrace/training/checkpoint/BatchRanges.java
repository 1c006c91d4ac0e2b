package dev.millrace.training.checkpoint;

import java.util.ArrayList;
import java.util.List;

/**
 * The batches trained since the previous checkpoint, as ranges: batch ids are {@code <stage>-p<partition>-<sequence>}
 * (core's BatchAssembler), so consecutive sequences of one partition collapse into one range and a
 * checkpoint stays small however many batches it covers.
 */
public final class BatchRanges {
    /** {@code from} to {@code to}, both included, {@code count} batches. */
    public record Range(String from, String to, long count) {
    }

    private final List<Range> ranges = new ArrayList<>();

    public void add(String batchId) {
        if (!ranges.isEmpty()) {
            Range last = ranges.get(ranges.size() - 1);
            if (follows(last.to(), batchId)) {
                ranges.set(ranges.size() - 1, new Range(last.from(), batchId, last.count() + 1));
                return;
            }
        }
        ranges.add(new Range(batchId, batchId, 1));
    }

    public void addAll(List<String> batchIds) {
        batchIds.forEach(this::add);
    }

    public List<Range> ranges() {
        return List.copyOf(ranges);
    }

    public void clear() {
        ranges.clear();
    }

    /** Same prefix up to the last '-', and a sequence one higher. */
    static boolean follows(String previous, String next) {
        int a = previous.lastIndexOf('-');
        int b = next.lastIndexOf('-');
        if (a < 0 || b < 0 || !previous.substring(0, a).equals(next.substring(0, b))) {
            return false;
        }
        try {
            return Long.parseLong(next.substring(b + 1)) == Long.parseLong(previous.substring(a + 1)) + 1;
        } catch (NumberFormatException e) {
            return false;
        }
    }
}
