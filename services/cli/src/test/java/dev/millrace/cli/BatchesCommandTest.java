package dev.millrace.cli;

import static dev.millrace.cli.TraceCommandTest.batch;
import static dev.millrace.cli.TraceCommandTest.filler;
import static dev.millrace.cli.TraceCommandTest.ref;
import static dev.millrace.cli.TraceCommandTest.row;
import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.proto.v1.WireStage;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./millrace batches} against a real broker holding batches written as loss-mask writes them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchesCommandTest {
    static final String SFT = "millrace.sft.batches";
    static final String PRETRAIN = "millrace.pretrain.batches";

    InProcessBroker broker;

    @BeforeAll
    void writeTopics(@TempDir Path dir) throws Exception {
        broker = new InProcessBroker(dir.resolve("kafka"), SFT, PRETRAIN, "millrace.dpo.batches", "millrace.dlq");
        broker.committed(SFT, 0, "sft-p0-00000000", batch("sft-p0-00000000", WireStage.SFT,
                row(ref("id-a", "millrace.sft.raw", 0, 1)), row(ref("id-b", "millrace.sft.raw", 0, 2)), filler()).toByteArray());
        broker.committed(SFT, 1, "sft-p1-00000000", batch("sft-p1-00000000", WireStage.SFT,
                row(ref("id-c", "millrace.sft.raw", 1, 1)), row(ref("id-d", "millrace.sft.raw", 1, 2)), row(ref("id-e", "millrace.sft.raw", 1, 3)))
                .toByteArray());
        broker.aborted(SFT, 0, "sft-p0-00000009", batch("sft-p0-00000009", WireStage.SFT, row(ref("id-x", "millrace.sft.raw", 0, 9))).toByteArray());
        broker.committed(SFT, 0, "sft-p0-00000001", batch("sft-p0-00000001", WireStage.SFT, row(ref("id-f", "millrace.sft.raw", 0, 3)), filler())
                .toByteArray());
        broker.committed(SFT, 1, "sft-p1-00000001", null); // a tombstone: no batch
        broker.committed(PRETRAIN, 1, "pretrain-p1-00000000", batch("pretrain-p1-00000000", WireStage.PRETRAIN,
                row(ref("t-1", "millrace.pretrain.raw", 1, 0).toBuilder().setWindow(0).build()),
                row(ref("t-1", "millrace.pretrain.raw", 1, 0).toBuilder().setWindow(1).build())).toBuilder()
                .setNonpadShare(0.625).setTrainedShare(0.25).build().toByteArray());
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    @Test
    void listsEveryCommittedBatchOfEveryStageWithItsPlaceFillAndRecords() {
        CliRun run = CliRun.of("batches", "--bootstrap", broker.bootstrap());

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> lines = run.outLines();
        assertThat(lines.get(0)).matches("BATCH +PARTITION +OFFSET +TIME \\(UTC\\) +ROWS +NONPAD +TRAINED +RECORDS +FIRST RECORDS");
        assertThat(lines.subList(1, lines.size())).extracting(l -> l.split(" +")[0])
                .containsExactly("pretrain-p1-00000000", "sft-p0-00000000", "sft-p1-00000000", "sft-p0-00000001");
        assertThat(lines.get(1)).matches("pretrain-p1-00000000 +1 +0 +\\S+Z +2/2 +0\\.625 +0\\.250 +1 +t-1");
        assertThat(lines.get(2)).matches("sft-p0-00000000 +0 +0 +\\S+Z +2/3 +\\S+ +\\S+ +2 +id-a,id-b");
        assertThat(lines.get(3)).matches("sft-p1-00000000 +1 +0 +\\S+Z +3/3 +\\S+ +\\S+ +3 +id-c,id-d,…");
        // offset 2: the aborted transaction's batch and its marker came before it, and are not listed
        assertThat(lines.get(4)).matches("sft-p0-00000001 +0 +4 +\\S+Z +1/2 .*id-f");
        assertThat(run.err()).contains("millrace.sft.batches: 3 batch(es)", "millrace.pretrain.batches: 1 batch(es)",
                "millrace.dpo.batches: 0 batch(es)");
    }

    @Test
    void lastKeepsTheNewestAcrossPartitionsAndStageSelectsATopic() {
        CliRun run = CliRun.of("batches", "--stage", "sft", "--last", "2", "--bootstrap", broker.bootstrap());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines().subList(1, run.outLines().size())).extracting(l -> l.split(" +")[0])
                .containsExactly("sft-p1-00000000", "sft-p0-00000001");
        assertThat(run.err()).contains("millrace.sft.batches: 3 batch(es), listed the newest 2").doesNotContain("pretrain");
    }

    @Test
    void usageErrorsAndAbsentTopicsAndBrokers() throws Exception {
        assertThat(CliRun.of("batches", "--last", "0", "--bootstrap", broker.bootstrap()).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("batches", "--stage", "nope", "--bootstrap", broker.bootstrap()).exitCode()).isEqualTo(2);

        CliRun noTopic = CliRun.of("batches", "--stage", "distill", "--bootstrap", broker.bootstrap());
        assertThat(noTopic.exitCode()).isEqualTo(1);
        assertThat(noTopic.err()).contains("topic millrace.distill.batches does not exist");
        CliRun noPrefix = CliRun.of("batches", "--topic-prefix", "absent", "--bootstrap", broker.bootstrap());
        assertThat(noPrefix.exitCode()).isEqualTo(1);
        assertThat(noPrefix.err()).contains("no batch topic (absent.<stage>.batches) exists");

        CliRun noBroker = CliRun.of("batches", "--bootstrap-servers", "127.0.0.1:" + closedPort());
        assertThat(noBroker.exitCode()).isEqualTo(1);
        assertThat(noBroker.out()).isEmpty();
        assertThat(noBroker.err()).contains("cannot reach a Kafka broker").doesNotContain("Exception");
    }

    static int closedPort() throws Exception {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
