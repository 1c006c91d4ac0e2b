package dev.millrace.lossmask;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class BatchPartitionerTest {
    private final BatchPartitioner partitioner = new BatchPartitioner();

    @Test
    void aBatchGoesToThePartitionItsIdNames() {
        assertThat(partitioner.partitions("t", "sft-p0-00000000", null, 2)).contains(Set.of(0));
        assertThat(partitioner.partitions("t", "sft-p1-00000007", null, 2)).contains(Set.of(1));
        assertThat(partitioner.partitions("t", "pretrain-p5-00000001", null, 8)).contains(Set.of(5));
    }

    @Test
    void fewerBatchPartitionsThanTasksWrapAround() {
        assertThat(partitioner.partitions("t", "dpo-p3-00000000", null, 2)).contains(Set.of(1));
        assertThat(partitioner.partitions("t", "dpo-p2-00000000", null, 1)).contains(Set.of(0));
    }

    @Test
    void anotherKeyShapeIsLeftToTheDefaultPartitioner() {
        assertThat(partitioner.partitions("t", "custom-id", null, 2)).isEqualTo(Optional.empty());
        assertThat(partitioner.partitions("t", null, null, 2)).isEqualTo(Optional.empty());
        assertThat(partitioner.partitions("t", "sft-p99999999999999999999-1", null, 2)).isEqualTo(Optional.empty());
    }
}
