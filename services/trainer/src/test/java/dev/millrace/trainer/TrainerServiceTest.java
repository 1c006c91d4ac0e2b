package dev.millrace.trainer;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.equalTo;

import dev.millrace.training.checkpoint.Checkpoint;
import dev.millrace.training.checkpoint.CheckpointStore;
import dev.millrace.training.run.StepLog;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.IOException;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The service in-process over a real broker: a continuous trainer of {@code tiny} trains the batches waiting
 * on its topic and those that arrive later, writes steps.jsonl and a checkpoint every 4 steps, evaluates its
 * eval file every 3 steps, is ready and alive, and shows its metrics. (Exit codes and SIGTERM: TrainerProcessIT.)
 */
@QuarkusTest
@QuarkusTestResource(value = TrainerTestResource.class, restrictToAnnotatedClass = true)
class TrainerServiceTest {

    private static SortedMap<Long, StepLog.Line> awaitSteps(int steps) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        while (TrainerTestResource.stepLines().size() < steps && System.currentTimeMillis() < deadline) {
            Thread.sleep(100);
        }
        assertThat(TrainerTestResource.stepLines()).as("steps.jsonl").hasSize(steps);
        return StepLog.read(TrainerTestResource.checkpoints().resolve(StepLog.FILE));
    }

    /**
     * /q/metrics once {@code steps} steps are in it: a step's line is written before its checkpoint and the
     * metrics are updated after it, so then both are done.
     */
    private static String awaitMetrics(int steps) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        String metrics;
        do {
            metrics = given().when().get("/q/metrics").then().statusCode(200).extract().asString();
            Matcher m = Pattern.compile("(?m)^millrace_trainer_steps_total\\{stage=\"sft\"} (\\S+)$").matcher(metrics);
            if (m.find() && Double.parseDouble(m.group(1)) == steps) {
                return metrics;
            }
            Thread.sleep(100);
        } while (System.currentTimeMillis() < deadline);
        return metrics;
    }

    private static double metric(String metrics, String name) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name + "{stage=\"sft\"}") + " (\\S+)$").matcher(metrics);
        assertThat(m.find()).as(name + " in /q/metrics").isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void itTrainsTheWaitingBatchesAndThoseThatArriveAndShowsItsProgress() throws Exception {
        SortedMap<Long, StepLog.Line> steps = awaitSteps(TrainerTestResource.BATCHES);
        String metrics = awaitMetrics(TrainerTestResource.BATCHES);
        assertThat(steps.keySet()).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
        assertThat(steps.get(3L).evalLoss()).isPresent();
        assertThat(steps.get(6L).evalLoss()).isPresent();
        assertThat(steps.get(4L).evalLoss()).isEmpty();
        assertThat(steps.values()).allSatisfy(line -> {
            assertThat(line.loss()).isPositive();
            assertThat(line.batches()).isEqualTo(1);
            assertThat(line.pass()).isZero();
        });
        CheckpointStore store = new CheckpointStore(TrainerTestResource.checkpoints(), 3);
        assertThat(store.list()).extracting(CheckpointStore::step).containsExactly(4L);
        assertThat(Checkpoint.readState(store.newest().orElseThrow()).stage()).isEqualTo("sft");

        given().when().get("/q/health/ready").then().statusCode(200).body("status", equalTo("UP"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"))
                .body("checks[0].data.batches_waiting", equalTo(false));

        assertThat(metric(metrics, "millrace_trainer_steps_total")).isEqualTo(6);
        assertThat(metric(metrics, "millrace_trainer_tokens_total")).isEqualTo(steps.values().stream().mapToLong(StepLog.Line::trainedTokens).sum());
        assertThat(metric(metrics, "millrace_trainer_loss")).isEqualTo(steps.get(6L).loss());
        assertThat(metric(metrics, "millrace_trainer_eval_loss")).isEqualTo(steps.get(6L).evalLoss().getAsDouble());
        assertThat(metric(metrics, "millrace_trainer_lr")).isEqualTo(5e-4);
        assertThat(metric(metrics, "millrace_trainer_grad_norm")).isEqualTo(steps.get(6L).gradNorm());
        assertThat(metric(metrics, "millrace_trainer_step_seconds_count")).isEqualTo(6);
        assertThat(metric(metrics, "millrace_trainer_step_seconds_sum")).isPositive();
        assertThat(metric(metrics, "millrace_trainer_data_wait_seconds_total")).isNotNegative();
        assertThat(metric(metrics, "millrace_trainer_checkpoint_age_seconds")).isNotNegative().isLessThan(120);
        assertThat(metric(metrics, "millrace_trainer_skipped_batches_total")).isZero();
        assertThat(metric(metrics, "millrace_trainer_pass")).isZero();

        // Continuous: batches that arrive later are trained too.
        TrainerTestResource.commit(100, 2);
        SortedMap<Long, StepLog.Line> more = awaitSteps(TrainerTestResource.BATCHES + 2);
        assertThat(more.lastKey()).isEqualTo(8L);
        String after = awaitMetrics(TrainerTestResource.BATCHES + 2);
        assertThat(metric(after, "millrace_trainer_steps_total")).isEqualTo(8);
        assertThat(metric(after, "millrace_trainer_data_wait_seconds_total")).isPositive(); // it waited for the last two
        assertThat(new CheckpointStore(TrainerTestResource.checkpoints(), 3).list()).extracting(CheckpointStore::step).containsExactly(4L, 8L);
    }
}
