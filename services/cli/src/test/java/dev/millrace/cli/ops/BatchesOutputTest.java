package dev.millrace.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BatchesOutputTest {
    @Test
    void oneAlignedLinePerBatch() {
        List<BatchListing.Summary> batches = List.of(
                new BatchListing.Summary("sft-p0-00000000", 0, 3, 1764720000000L, 2, 8, 0.40625, 0.125, 2, List.of("0123456789abcdef", "short")),
                new BatchListing.Summary("sft-p1-00000011", 1, 17, 1764720001500L, 8, 8, 1.0, 0.5, 9, List.of("a", "b")),
                new BatchListing.Summary("sft-p1-00000012", 1, 18, 1764720002000L, 0, 8, 0, 0, 0, List.of()));

        assertThat(BatchesOutput.table(batches).lines()).containsExactly(
                "BATCH            PARTITION  OFFSET  TIME (UTC)            ROWS  NONPAD  TRAINED  RECORDS  FIRST RECORDS",
                "sft-p0-00000000  0          3       2025-12-03T00:00:00Z  2/8   0.406   0.125    2        0123456789ab…,short",
                "sft-p1-00000011  1          17      2025-12-03T00:00:01Z  8/8   1.000   0.500    9        a,b,…",
                "sft-p1-00000012  1          18      2025-12-03T00:00:02Z  0/8   0.000   0.000    0        -");
    }
}
