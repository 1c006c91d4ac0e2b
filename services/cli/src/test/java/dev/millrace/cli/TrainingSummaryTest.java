package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.core.record.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingSummaryTest {

    @Test
    void firstAndLastAreMeansOverTheFirstAndLastTenthOfTheSteps() {
        List<Double> losses = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            losses.add((double) i);
        }
        TrainingSummary s = TrainingSummary.of(losses);
        assertThat(s.steps()).isEqualTo(20);
        assertThat(s.firstLoss()).isEqualTo(1.5); // steps 1 and 2
        assertThat(s.lastLoss()).isEqualTo(19.5); // steps 19 and 20
        assertThat(s.line(Stage.PRETRAIN)).isEqualTo("stage=pretrain steps=20 first_loss=1.5000 last_loss=19.5000");
    }

    @Test
    void aTenthIsAtLeastOneStepAndRoundsUp() {
        assertThat(TrainingSummary.of(List.of(4.0)).firstLoss()).isEqualTo(4.0);
        TrainingSummary three = TrainingSummary.of(List.of(3.0, 2.0, 1.0));
        assertThat(three.firstLoss()).isEqualTo(3.0);
        assertThat(three.lastLoss()).isEqualTo(1.0);
        TrainingSummary eleven = TrainingSummary.of(List.of(1.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 5.0, 7.0));
        assertThat(eleven.firstLoss()).isEqualTo(2.0); // ceil(11/10) = 2 steps
        assertThat(eleven.lastLoss()).isEqualTo(6.0);
        assertThatThrownBy(() -> TrainingSummary.of(List.of())).hasMessageContaining("no training steps");
    }

    @Test
    void aStepTrainedAgainAfterACrashCountsOnceWithItsLastLine(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("steps.jsonl");
        Files.writeString(log, """
                {"step":1,"loss":9.0,"lr":0.001,"grad_norm":1.0,"trained_tokens":10,"batches":1,"pass":0}
                {"step":2,"loss":8.0,"lr":0.001,"grad_norm":1.0,"trained_tokens":10,"batches":1,"pass":0}
                {"step":3,"loss":7.5,"lr":0.001,"grad_norm":1.0,"trained_tokens":10,"batches":1,"pass":0}
                {"step":3,"loss":7.0,"lr":0.001,"grad_norm":1.0,"trained_tokens":10,"batches":1,"pass":0,"eval_loss":7.2}

                """);
        TrainingSummary s = TrainingSummary.read(log);
        assertThat(s.steps()).isEqualTo(3);
        assertThat(s.firstLoss()).isEqualTo(9.0);
        assertThat(s.lastLoss()).isEqualTo(7.0);
    }
}
