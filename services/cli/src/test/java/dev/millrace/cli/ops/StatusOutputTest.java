package dev.millrace.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.proto.v1.DeadLetter;
import dev.millrace.proto.v1.WireStage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusOutputTest {
    private static final PrometheusText TOKENIZE = PrometheusText.parse("""
            millrace_records_in_total{service="tokenize",stage="sft"} 12.0
            millrace_records_out_total{service="tokenize",stage="sft"} 9.0
            millrace_dead_letters_total{reason="TOO_LONG",service="tokenize",stage="sft"} 3.0
            millrace_records_in_total{service="tokenize",stage="pretrain"} 4.0
            millrace_records_out_total{service="tokenize",stage="pretrain"} 4.0
            """);
    private static final PrometheusText LOSS_MASK = PrometheusText.parse("""
            millrace_records_in_total{service="loss-mask",stage="sft"} 9.0
            millrace_records_out_total{service="loss-mask",stage="sft"} 9.0
            millrace_batches_total{stage="sft"} 2.0
            """);
    private static final PrometheusText TRAINER = PrometheusText.parse("""
            millrace_trainer_steps_total{stage="sft"} 120.0
            millrace_trainer_loss{stage="sft"} 2.71828
            millrace_trainer_checkpoint_age_seconds{stage="sft"} 185.2
            """);

    private static final List<ServiceProbe.State> SERVICES = List.of(
            new ServiceProbe.State("loss-mask", "http://127.0.0.1:8084", "UP", "UP", LOSS_MASK, null),
            new ServiceProbe.State("tokenize", "http://127.0.0.1:8083", "DOWN", "UP", TOKENIZE, null),
            new ServiceProbe.State("ingest", "http://127.0.0.1:8081", "unreachable (connection refused)", "unreachable (connection refused)", null,
                    "unreachable (connection refused)"),
            new ServiceProbe.State("trainer", "http://127.0.0.1:8085", "UP", "UP", TRAINER, null));

    @Test
    void stepCountersAreListedInStageAndPipelineOrder() {
        assertThat(StatusReport.steps(SERVICES)).containsExactly(
                new StatusReport.StepCounts("pretrain", "tokenize", 4, 4, Double.NaN),
                new StatusReport.StepCounts("sft", "tokenize", 12, 9, 3),
                new StatusReport.StepCounts("sft", "loss-mask", 9, 9, Double.NaN));
        assertThat(StatusReport.batchesWritten(SERVICES)).containsExactly(java.util.Map.entry("sft", 2.0));
        assertThat(StatusReport.trainers(SERVICES)).containsExactly(new StatusReport.TrainerState("trainer", "sft", 120, 2.71828, 185.2));
    }

    @Test
    void deadLettersAreCountedByStageServiceAndReason() {
        List<DeadLetterScan.Entry> entries = List.of(letter(WireStage.SFT, "tokenize", "TOO_LONG"), letter(WireStage.PRETRAIN, "ingest", "BAD_JSON"),
                letter(WireStage.SFT, "tokenize", "TOO_LONG"), letter(WireStage.SFT, "ingest", "BAD_JSON"),
                letter(WireStage.STAGE_UNSPECIFIED, "", "BAD_JSON"));

        assertThat(StatusReport.deadLetters(entries)).containsExactly(
                new StatusReport.DeadLetterCount("pretrain", "ingest", "BAD_JSON", 1),
                new StatusReport.DeadLetterCount("sft", "ingest", "BAD_JSON", 1),
                new StatusReport.DeadLetterCount("sft", "tokenize", "TOO_LONG", 2),
                new StatusReport.DeadLetterCount("-", "-", "BAD_JSON", 1));
    }

    @Test
    void printsEveryPartAsATable() {
        StatusReport report = new StatusReport("127.0.0.1:9092", "millrace", null, SERVICES,
                List.of(new BrokerStatus.Lag("millrace-tokenize", "millrace.sft.templated", 10, 14)),
                List.of(new StatusReport.BatchCount("sft", "millrace.sft.batches", 4L, 2.0),
                        new StatusReport.BatchCount("dpo", "millrace.dpo.batches", 0L, null)),
                List.of(new StatusReport.DeadLetterCount("sft", "tokenize", "TOO_LONG", 3)), null);

        List<String> lines = print(report);

        assertThat(lines.get(0)).isEqualTo("broker 127.0.0.1:9092: reachable; topic prefix millrace");
        assertThat(lines).contains(
                "SERVICE    URL                    READY                             LIVE                              METRICS",
                "loss-mask  http://127.0.0.1:8084  UP                                UP                                read",
                "tokenize   http://127.0.0.1:8083  DOWN                              UP                                read",
                "ingest     http://127.0.0.1:8081  unreachable (connection refused)  unreachable (connection refused)  unreachable (connection refused)",
                "STAGE     SERVICE    IN  OUT  DEAD LETTERS",
                "pretrain  tokenize   4   4    -",
                "sft       tokenize   12  9    3",
                "GROUP              TOPIC                   LAG  COMMITTED  END",
                "millrace-tokenize  millrace.sft.templated  4    10         14",
                "STAGE  TOPIC                 WRITTEN  END OFFSETS",
                "sft    millrace.sft.batches  2        4",
                "dpo    millrace.dpo.batches  ?        0",
                "STAGE  SERVICE   REASON    COUNT",
                "sft    tokenize  TOO_LONG  3",
                "SERVICE  STAGE  STEP  LOSS    CHECKPOINT AGE",
                "trainer  sft    120   2.7183  3m05s");
    }

    @Test
    void withoutTheBrokerItsPartsSaySoAndTheServicesAreStillShown() {
        StatusReport report = new StatusReport("127.0.0.1:1", "millrace", "cannot reach a Kafka broker at 127.0.0.1:1", SERVICES.subList(2, 3),
                List.of(), List.of(), List.of(), null);

        List<String> lines = print(report);

        assertThat(lines.get(0)).isEqualTo("broker 127.0.0.1:1: UNREACHABLE (cannot reach a Kafka broker at 127.0.0.1:1); topic prefix millrace");
        assertThat(lines).contains("ingest   http://127.0.0.1:8081  unreachable (connection refused)  unreachable (connection refused)  unreachable (connection refused)",
                "(no service answered with its metrics)", "(unavailable: the broker did not answer, nor did loss-mask)", "(no trainer answered)");
        assertThat(lines.stream().filter(l -> l.equals("(unavailable: the broker did not answer)"))).hasSize(2);
    }

    @Test
    void agesAndFiguresAreShort() {
        assertThat(StatusOutput.age(Double.NaN)).isEqualTo("-");
        assertThat(StatusOutput.age(42.4)).isEqualTo("42s");
        assertThat(StatusOutput.age(7627)).isEqualTo("2h07m");
        assertThat(StatusOutput.count(Double.NaN)).isEqualTo("-");
        assertThat(StatusOutput.decimal(Double.NaN)).isEqualTo("-");
    }

    private static DeadLetterScan.Entry letter(WireStage stage, String service, String reason) {
        return new DeadLetterScan.Entry(0, 0, DeadLetter.newBuilder().setStage(stage).setService(service).setReason(reason).build());
    }

    private static List<String> print(StatusReport report) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            StatusOutput.print(out, report);
        }
        return List.of(bytes.toString(StandardCharsets.UTF_8).split("\n"));
    }
}
