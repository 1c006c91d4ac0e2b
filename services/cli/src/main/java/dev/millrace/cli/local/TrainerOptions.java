package dev.millrace.cli.local;

import dev.millrace.core.record.Stage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One trainer of a local run: the stage it trains, where its checkpoints go, the model, and when it stops.
 * Defaults are the trainer service's own (services/trainer/README.md) except the model, {@code tiny} here:
 * a local run trains on the CPU.
 */
public final class TrainerOptions {
    private final Stage stage;
    private final Path checkpointDir;
    private String model = "tiny";
    private Path init;
    private long maxSteps;
    private int passes;
    private Duration untilIdle;
    private final Map<String, String> settings = new LinkedHashMap<>();

    public TrainerOptions(Stage stage, Path checkpointDir) {
        this.stage = Objects.requireNonNull(stage, "stage");
        this.checkpointDir = Objects.requireNonNull(checkpointDir, "checkpointDir");
    }

    /** A model preset ({@code tiny}, {@code minimind-26m}). */
    public TrainerOptions model(String preset) {
        this.model = preset;
        return this;
    }

    /** Weights a fresh run starts from (a checkpoint directory); ignored by the trainer when its directory holds checkpoints. */
    public TrainerOptions init(Path dir) {
        this.init = dir;
        return this;
    }

    /** Bounds: {@code maxSteps} (0: none), {@code passes} over the topic (0: continuous), {@code untilIdle} (null: none). */
    public TrainerOptions bounds(long steps, int passCount, Duration idle) {
        this.maxSteps = steps;
        this.passes = passCount;
        this.untilIdle = idle;
        return this;
    }

    /** Any other trainer setting by its name under {@code millrace.trainer.} (e.g. {@code lr}, {@code checkpoint-every-steps}). */
    public TrainerOptions set(String name, Object value) {
        settings.put(name, String.valueOf(value));
        return this;
    }

    public Stage stage() {
        return stage;
    }

    public Optional<Path> initDir() {
        return Optional.ofNullable(init);
    }

    public Path checkpointDir() {
        return checkpointDir;
    }

    /** The trainer's own settings by name under {@code millrace.trainer.}, in a stable order. */
    Map<String, String> trainerSettings() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("stage", stage.id());
        out.put("checkpoint-dir", checkpointDir.toAbsolutePath().toString());
        out.put("model", model);
        if (init != null) {
            out.put("init", init.toAbsolutePath().toString());
        }
        out.put("max-steps", String.valueOf(maxSteps));
        out.put("passes", String.valueOf(passes));
        if (untilIdle != null) {
            out.put("until-idle", untilIdle.toString());
        }
        out.putAll(settings);
        return out;
    }
}
