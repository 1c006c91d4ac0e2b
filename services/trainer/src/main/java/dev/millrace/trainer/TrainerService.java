package dev.millrace.trainer;

import dev.millrace.training.run.Progress;
import dev.millrace.training.run.StepReport;
import dev.millrace.training.run.TrainingRun;
import dev.millrace.training.run.TrainingSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.LaunchMode;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import sun.misc.Signal;

/**
 * The trainer's life: once the app has started, a thread of its own opens the {@link TrainingRun} (resumed
 * from the newest checkpoint, or started from init or a fresh model; the topic seeked; only then is the
 * service ready) and runs it. A bounded run that ends has written its final checkpoint and the process exits
 * 0; a run that fails is logged at ERROR with its message and the process exits 1. On SIGTERM (Quarkus'
 * shutdown) the run is asked to stop after its current batch, and the shutdown waits for its final
 * checkpoint; the process then exits 0.
 */
@ApplicationScoped
public class TrainerService {
    private static final Logger LOG = Logger.getLogger(TrainerService.class);

    /** Where the service stands. */
    public enum State { STARTING, TRAINING, ENDED, FAILED }

    @Inject
    TrainerConfig config;

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafka;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Inject
    MeterRegistry registry;

    private volatile State state = State.STARTING;
    private volatile TrainingRun run;
    private volatile boolean shuttingDown;
    private final CountDownLatch finished = new CountDownLatch(1);
    private Thread thread;
    private TrainerMetrics metrics;
    private Progress progress;

    void onStart(@Observes StartupEvent event) {
        TrainingSettings settings = config.trainingSettings(bootstrapServers, kafka); // a bad combination of settings stops the start
        if (LaunchMode.current() == LaunchMode.NORMAL) {
            exitZeroOnSigterm();
        }
        progress = new Progress(settings.stage().id(), settings.maxSteps());
        LOG.infof("trainer %s: %s at T=%d from %s (%s), checkpoints in %s; %s", settings.stage().id(), settings.modelPreset(),
                settings.seqLen(), settings.batchTopic(), settings.bootstrapServers(), settings.checkpointDir(), bounds(settings));
        thread = new Thread(() -> train(settings), "millrace-trainer");
        thread.start();
    }

    private static String bounds(TrainingSettings s) {
        if (!s.bounded()) {
            return "continuous (until stopped)";
        }
        StringBuilder b = new StringBuilder("until");
        if (s.maxSteps() > 0) {
            b.append(" step ").append(s.maxSteps());
        }
        if (s.untilIdle() != null) {
            b.append(b.length() > 5 ? " or" : "").append(" idle for ").append(Progress.duration(s.untilIdle()));
        }
        if (s.passes() > 0) {
            b.append(b.length() > 5 ? " or" : "").append(" ").append(s.passes()).append(s.passes() == 1 ? " pass" : " passes");
        }
        return b.toString();
    }

    /**
     * SIGTERM ends a JVM with status 143 (128 + 15) after its shutdown hooks; a trainer that was asked to stop
     * and wrote its final checkpoint has done what it was asked, so it exits 0 through Quarkus' own exit.
     */
    private static void exitZeroOnSigterm() {
        try {
            Signal.handle(new Signal("TERM"), signal -> Quarkus.asyncExit(0));
        } catch (IllegalArgumentException e) { // the JVM keeps the signal (-Xrs): its default exit status stays
            LOG.debugf("SIGTERM keeps the JVM's handling: %s", e.getMessage());
        }
    }

    private void train(TrainingSettings settings) {
        int exitCode;
        try (TrainingRun opened = TrainingRun.open(settings, this::onStep)) {
            metrics = new TrainerMetrics(registry, opened);
            run = opened;
            state = State.TRAINING;
            if (shuttingDown) {
                opened.stop(); // stopped while it was opening
            }
            LOG.infof("trainer %s ready at step %d, pass %d", settings.stage().id(), opened.steps(), opened.pass());
            TrainingRun.Outcome outcome = opened.run();
            printProgress();
            state = State.ENDED;
            LOG.infof("trainer %s: training ended (%s) at step %d, pass %d; last checkpoint %s", settings.stage().id(), outcome.ended(),
                    outcome.step(), outcome.pass(), outcome.lastCheckpoint() == null ? "(none written)" : outcome.lastCheckpoint());
            exitCode = 0;
        } catch (IllegalArgumentException | IllegalStateException e) {
            // BatchMismatchException, VanishedOffsetsException, settings that do not fit: the message says it all.
            state = State.FAILED;
            LOG.errorf("trainer %s stopped: %s", settings.stage().id(), e.getMessage());
            LOG.debug("trainer failure", e);
            exitCode = 1;
        } catch (Throwable e) {
            state = State.FAILED;
            LOG.errorf(e, "trainer %s failed: %s", settings.stage().id(), e.getMessage());
            exitCode = 1;
        } finally {
            finished.countDown();
        }
        if (!shuttingDown) {
            Quarkus.asyncExit(exitCode);
        }
    }

    private void onStep(StepReport report) {
        metrics.record(report);
        progress.add(report);
        long every = config.trainer().progressEverySteps();
        if (every > 0 && report.step() % every == 0) {
            printProgress();
        }
    }

    private void printProgress() {
        if (config.trainer().progressEverySteps() > 0 && progress.steps() > 0) {
            System.err.println(progress.line());
        }
    }

    /** SIGTERM, or the end of the app: the run stops after its current batch; this waits for its final checkpoint. */
    void onStop(@Observes ShutdownEvent event) {
        shuttingDown = true;
        if (thread == null) {
            return; // the start failed before training began
        }
        TrainingRun current = run;
        if (current != null && state == State.TRAINING) {
            LOG.info("trainer stopping: the current step finishes and a final checkpoint is written");
            current.stop();
        }
        Duration limit = config.trainer().stuckAfter();
        try {
            if (!finished.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.errorf("trainer did not stop within %s (stuck-after): exiting without its final checkpoint", Progress.duration(limit));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public State state() {
        return state;
    }

    /** The open run; null before it is open. */
    public TrainingRun run() {
        return run;
    }

    public Duration stuckAfter() {
        return config.trainer().stuckAfter();
    }
}
