package dev.millrace.core.pack;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.core.mask.Row;
import dev.millrace.core.wire.RowCodec;
import dev.millrace.proto.v1.BatchRow;
import dev.millrace.proto.v1.RecordRef;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackBufferTest {
    private static final int T = 16;
    private static final int PAD = 0;

    /** A map standing in for the state store; {@link #copy} is what a restore from the changelog gives. */
    private static final class MapStore implements PackBuffer.Store {
        final Map<String, byte[]> entries = new HashMap<>();

        @Override
        public byte[] get(String key) {
            return entries.get(key);
        }

        @Override
        public void put(String key, byte[] value) {
            entries.put(key, value.clone());
        }

        @Override
        public void delete(String key) {
            entries.remove(key);
        }

        MapStore copy() {
            MapStore c = new MapStore();
            c.entries.putAll(entries);
            return c;
        }
    }

    /** Example {@code i}: {@code lengths[i]} tokens (ids 100*i+k), the first token untrained, padded to T. */
    private static Row example(int i, int length) {
        int[] ids = new int[length];
        int[] mask = new int[length];
        for (int k = 0; k < length; k++) {
            ids[k] = 100 * (i + 1) + k;
            mask[k] = k == 0 ? 0 : 1;
        }
        return Row.fit(ids, mask, T, PAD);
    }

    private static RecordRef ref(int i) {
        return RecordRef.newBuilder().setRecordId("r" + i).build();
    }

    /** What {@link Packer} alone makes of the same examples in the same order (lines = example index). */
    private static List<PackedRow> packerRows(int[] lengths, int buffer) {
        Packer packer = new Packer(T, PAD, buffer);
        List<PackedRow> rows = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            Row e = example(i, lengths[i]);
            rows.addAll(packer.add(java.util.Arrays.copyOf(e.ids(), lengths[i]), java.util.Arrays.copyOf(e.mask(), lengths[i]), i));
        }
        rows.addAll(packer.finish());
        return rows;
    }

    private static void assertSame(List<BatchRow> wire, List<PackedRow> expected) {
        assertThat(wire).hasSize(expected.size());
        for (int r = 0; r < wire.size(); r++) {
            BatchRow w = wire.get(r);
            PackedRow p = expected.get(r);
            assertThat(RowCodec.ids(w)).containsExactly(p.ids());
            assertThat(RowCodec.unpackMask(w.getLossMask(), T)).containsExactly(p.mask());
            assertThat(w.getSegmentIdsList()).containsExactlyElementsOf(boxed(p.segmentIds()));
            assertThat(w.getPositionIdsList()).containsExactlyElementsOf(boxed(p.positionIds()));
            assertThat(w.getRecordsList()).extracting(RecordRef::getRecordId)
                    .containsExactlyElementsOf(p.lines().stream().map(l -> "r" + l).toList());
            assertThat(w.getNonpadTokens()).isEqualTo(p.realLength());
            assertThat(w.getTrainedTokens()).isEqualTo(p.asRow().trainedTokens());
        }
    }

    private static List<Integer> boxed(int[] a) {
        return java.util.Arrays.stream(a).boxed().toList();
    }

    @Test
    void rowsAreWhatThePackerMakesOfTheSameExamples() {
        int[] lengths = {5, 11, 3, 16, 7, 2, 9, 4};
        MapStore store = new MapStore();
        PackBuffer buffer = new PackBuffer(store, T, PAD, 4);
        List<BatchRow> rows = new ArrayList<>();
        List<Integer> sizesAfterAdd = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            rows.addAll(buffer.add(example(i, lengths[i]), List.of(ref(i)), List.of(), 0));
            sizesAfterAdd.add(buffer.buffered());
        }

        assertThat(sizesAfterAdd).containsExactly(1, 2, 3, 0, 1, 2, 3, 0);
        assertSame(rows, packerRows(lengths, 4));
        assertThat(store.entries).allSatisfy((k, v) -> assertThat(k).doesNotStartWith("pack/example/"));
    }

    @Test
    void aBufferRestoredFromItsStoreGivesTheSameRowsAsOneThatNeverStopped() {
        Random random = new Random(5);
        int[] lengths = new int[40];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = 1 + random.nextInt(T);
        }
        PackBuffer running = new PackBuffer(new MapStore(), T, PAD, 8);
        List<BatchRow> uninterrupted = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            uninterrupted.addAll(running.add(example(i, lengths[i]), List.of(ref(i)), List.of(), 0));
        }
        uninterrupted.addAll(running.flush());

        // A crash under exactly-once: the store as of the last commit (after example 20, mid-buffer)
        // is restored, and the examples processed after that commit, whose output was aborted, come again.
        MapStore store = new MapStore();
        PackBuffer crashed = new PackBuffer(store, T, PAD, 8);
        List<BatchRow> committed = new ArrayList<>();
        for (int i = 0; i <= 20; i++) {
            committed.addAll(crashed.add(example(i, lengths[i]), List.of(ref(i)), List.of(), 0));
        }
        MapStore restored = store.copy();
        for (int i = 21; i < 30; i++) {
            crashed.add(example(i, lengths[i]), List.of(ref(i)), List.of(), 0); // aborted: never seen downstream
        }
        PackBuffer restarted = new PackBuffer(restored, T, PAD, 8);
        assertThat(restarted.buffered()).isEqualTo(21 % 8);
        for (int i = 21; i < lengths.length; i++) {
            committed.addAll(restarted.add(example(i, lengths[i]), List.of(ref(i)), List.of(), 0));
        }
        committed.addAll(restarted.flush());

        assertSame(uninterrupted, packerRows(lengths, 8));
        assertThat(committed).isEqualTo(uninterrupted);
    }

    @Test
    void lingerFlushesAPartialBufferAndKeepsEachExamplesRefsAndWarnings() {
        MapStore store = new MapStore();
        PackBuffer buffer = new PackBuffer(store, T, PAD, 100);
        assertThat(buffer.lingered(1_000, 50)).isFalse();
        buffer.add(example(0, 6), List.of(ref(0)), List.of("ASSISTANT_TURN_TRUNCATED"), 1_000);
        buffer.add(example(1, 4), List.of(ref(1), RecordRef.newBuilder().setRecordId("r1").setWindow(1).build()), List.of(), 1_030);

        assertThat(buffer.lingered(1_049, 50)).isFalse();
        assertThat(buffer.lingered(1_050, 50)).isTrue();
        List<BatchRow> rows = buffer.flush();

        assertThat(rows).hasSize(1);
        assertThat(rows.get(0).getRecordsList()).extracting(RecordRef::getRecordId, RecordRef::getWindow)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("r0", 0), org.assertj.core.groups.Tuple.tuple("r1", 0),
                        org.assertj.core.groups.Tuple.tuple("r1", 1));
        assertThat(rows.get(0).getWarningsList()).containsExactly("ASSISTANT_TURN_TRUNCATED");
        assertThat(buffer.buffered()).isZero();
        assertThat(buffer.lingered(9_999, 50)).isFalse();
        assertThat(buffer.flush()).isEmpty();
    }
}
