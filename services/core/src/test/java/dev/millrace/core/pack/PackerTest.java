package dev.millrace.core.pack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PackerTest {
    private static final int PAD = 0;

    /** An example of {@code n} tokens with ids line*1000+k and mask 1 everywhere. */
    private static int[] ids(long line, int n) {
        int[] ids = new int[n];
        for (int k = 0; k < n; k++) {
            ids[k] = (int) (line * 1000 + k + 1);
        }
        return ids;
    }

    private static int[] ones(int n) {
        int[] m = new int[n];
        Arrays.fill(m, 1);
        return m;
    }

    private static List<PackedRow> packAll(Packer packer, int[] lengths) {
        List<PackedRow> rows = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            rows.addAll(packer.add(ids(i + 1, lengths[i]), ones(lengths[i]), i + 1));
        }
        rows.addAll(packer.finish());
        return rows;
    }

    @Test
    void boundaryTokenIsNeverATargetAndSegmentsAndPositionsRestart() {
        Packer packer = new Packer(10, PAD, 8);
        packer.add(new int[] {11, 12, 13}, new int[] {0, 1, 1}, 1);
        packer.add(new int[] {21, 22, 23, 24}, new int[] {1, 1, 0, 1}, 2);
        List<PackedRow> rows = packer.finish();

        assertThat(rows).hasSize(1);
        PackedRow row = rows.get(0);
        assertThat(row.ids()).containsExactly(11, 12, 13, 21, 22, 23, 24, PAD, PAD, PAD);
        assertThat(row.mask()).containsExactly(0, 1, 1, 0, 1, 0, 1, 0, 0, 0);
        assertThat(row.segmentIds()).containsExactly(1, 1, 1, 2, 2, 2, 2, 0, 0, 0);
        assertThat(row.positionIds()).containsExactly(0, 1, 2, 0, 1, 2, 3, 0, 0, 0);
        assertThat(row.lines()).containsExactly(1L, 2L);
        assertThat(row.realLength()).isEqualTo(7);
        assertThat(row.asRow().trainedTokens()).isEqualTo(4);
    }

    @Test
    void firstExampleOfARowKeepsItsOwnMaskAndAFullExampleFillsARowAlone() {
        Packer packer = new Packer(4, PAD, 8);
        packer.add(new int[] {1, 2, 3, 4}, new int[] {1, 1, 1, 1}, 7);
        packer.add(new int[] {5}, new int[] {1}, 8);
        List<PackedRow> rows = packer.finish();
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).mask()).containsExactly(1, 1, 1, 1);
        assertThat(rows.get(0).lines()).containsExactly(7L);
        assertThat(rows.get(1).mask()).containsExactly(1, 0, 0, 0);
    }

    @Test
    void bestFitDecreasingFillsRowsTightly() {
        // 6+4, 5+5, 7+3 fit exactly into three rows of 10
        List<PackedRow> rows = packAll(new Packer(10, PAD, 100), new int[] {4, 5, 7, 6, 3, 5});
        assertThat(rows).hasSize(3);
        assertThat(rows).allSatisfy(r -> assertThat(r.realLength()).isEqualTo(10));
        // rows in the order opened (longest first), examples in arrival order within a row
        assertThat(rows.get(0).lines()).containsExactly(3L, 5L);
        assertThat(rows.get(1).lines()).containsExactly(1L, 4L);
        assertThat(rows.get(2).lines()).containsExactly(2L, 6L);
    }

    @Test
    void rejectsExamplesThatDoNotFit() {
        Packer packer = new Packer(4, PAD, 2);
        assertThatThrownBy(() -> packer.add(new int[5], new int[5], 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> packer.add(new int[0], new int[0], 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> packer.add(new int[2], new int[3], 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Packer(4, PAD, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void boundedBufferIsHonouredAndEveryExampleIsPlacedExactlyOnceInOrderWithinItsSegment() {
        Random random = new Random(42);
        int t = 64;
        int buffer = 16;
        int[] lengths = new int[1000];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = 1 + random.nextInt(t);
        }
        Packer packer = new Packer(t, PAD, buffer);
        List<PackedRow> rows = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            List<PackedRow> out = packer.add(ids(i + 1, lengths[i]), ones(lengths[i]), i + 1);
            assertThat(packer.buffered()).isLessThanOrEqualTo(buffer);
            assertThat(packer.buffered()).isEqualTo((i + 1) % buffer);
            if (!out.isEmpty()) {
                // a flush only holds examples of the last full buffer
                long first = i + 2 - buffer;
                long last = i + 1;
                out.forEach(r -> assertThat(r.lines()).allSatisfy(l -> assertThat(l).isBetween(first, last)));
            }
            rows.addAll(out);
        }
        rows.addAll(packer.finish());
        assertThat(packer.buffered()).isZero();

        Map<Long, Integer> placed = new HashMap<>();
        for (PackedRow row : rows) {
            assertThat(row.ids()).hasSize(t);
            assertThat(row.realLength()).isLessThanOrEqualTo(t);
            int at = 0;
            for (int s = 0; s < row.lines().size(); s++) {
                long line = row.lines().get(s);
                placed.merge(line, 1, Integer::sum);
                int n = lengths[(int) line - 1];
                assertThat(Arrays.copyOfRange(row.ids(), at, at + n)).containsExactly(ids(line, n));
                for (int k = 0; k < n; k++) {
                    assertThat(row.segmentIds()[at + k]).isEqualTo(s + 1);
                    assertThat(row.positionIds()[at + k]).isEqualTo(k);
                    assertThat(row.mask()[at + k]).isEqualTo(k == 0 && s > 0 ? 0 : 1);
                }
                at += n;
            }
            assertThat(at).isEqualTo(row.realLength());
            for (int k = at; k < t; k++) {
                assertThat(row.ids()[k]).isEqualTo(PAD);
                assertThat(row.mask()[k]).isZero();
                assertThat(row.segmentIds()[k]).isZero();
                assertThat(row.positionIds()[k]).isZero();
            }
        }
        assertThat(placed).hasSize(lengths.length);
        assertThat(placed.values()).containsOnly(1);
    }

    @Test
    void outputIsDeterministic() {
        Random random = new Random(7);
        int[] lengths = random.ints(500, 1, 129).toArray();
        List<PackedRow> a = packAll(new Packer(128, PAD, 64), lengths);
        List<PackedRow> b = packAll(new Packer(128, PAD, 64), lengths);
        assertThat(a).hasSameSizeAs(b);
        for (int i = 0; i < a.size(); i++) {
            assertThat(a.get(i).ids()).isEqualTo(b.get(i).ids());
            assertThat(a.get(i).mask()).isEqualTo(b.get(i).mask());
            assertThat(a.get(i).segmentIds()).isEqualTo(b.get(i).segmentIds());
            assertThat(a.get(i).positionIds()).isEqualTo(b.get(i).positionIds());
            assertThat(a.get(i).lines()).isEqualTo(b.get(i).lines());
        }
    }
}
