package dev.millrace.cli.ops;

import dev.millrace.core.record.Stage;
import dev.millrace.proto.v1.WireStage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Everything {@code ./millrace status} shows, and the figures it derives from the services' metrics
 * and the dead-letter topic. {@code brokerProblem} says why the broker did not answer (null when it
 * did: then lag, batch topics and dead letters were read); {@code deadLetterProblem} why the
 * dead-letter topic could not be read.
 */
public record StatusReport(String bootstrap, String topicPrefix, String brokerProblem, List<ServiceProbe.State> services,
                           List<BrokerStatus.Lag> lags, List<BatchCount> batches,
                           List<DeadLetterCount> deadLetters, String deadLetterProblem) {

    /** Metric names as the services expose them in Prometheus text (services/contract StepMetrics, loss-mask, trainer). */
    public static final String RECORDS_IN = "millrace_records_in_total";
    public static final String RECORDS_OUT = "millrace_records_out_total";
    public static final String DEAD_LETTERS = "millrace_dead_letters_total";
    public static final String BATCHES = "millrace_batches_total";
    public static final String TRAINER_STEPS = "millrace_trainer_steps_total";
    public static final String TRAINER_LOSS = "millrace_trainer_loss";
    public static final String TRAINER_CHECKPOINT_AGE = "millrace_trainer_checkpoint_age_seconds";

    /** One step of one stage: records in and out and dead letters, counted by the service since it started. */
    public record StepCounts(String stage, String service, double in, double out, double deadLetters) {
    }

    /** A stage's batches: the batch topic's end offsets (null when unknown) and loss-mask's counter (null when unreachable). */
    public record BatchCount(String stage, String topic, Long topicEndOffsets, Double written) {
    }

    /** Dead letters on the dead-letter topic with one stage, service and reason. */
    public record DeadLetterCount(String stage, String service, String reason, long count) {
    }

    /** A trainer's progress from its metrics; NaN where it has none yet (no step, no checkpoint). */
    public record TrainerState(String service, String stage, double step, double loss, double checkpointAgeSeconds) {
    }

    /** Per stage (in stage order) and service (in pipeline order), the step counters of every reachable service. */
    public static List<StepCounts> steps(List<ServiceProbe.State> services) {
        List<StepCounts> steps = new ArrayList<>();
        for (ServiceProbe.State s : services) {
            if (s.metrics() == null) {
                continue;
            }
            TreeSet<String[]> keys = new TreeSet<>(Comparator.<String[], String>comparing(k -> k[0]).thenComparing(k -> k[1]));
            for (String name : List.of(RECORDS_IN, RECORDS_OUT, DEAD_LETTERS)) {
                for (PrometheusText.Sample sample : s.metrics().named(name)) {
                    if (sample.label("stage") != null && sample.label("service") != null) {
                        keys.add(new String[] {sample.label("stage"), sample.label("service")});
                    }
                }
            }
            for (String[] k : keys) {
                Map<String, String> labels = Map.of("stage", k[0], "service", k[1]);
                steps.add(new StepCounts(k[0], k[1], value(s.metrics().sum(RECORDS_IN, labels)),
                        value(s.metrics().sum(RECORDS_OUT, labels)), value(s.metrics().sum(DEAD_LETTERS, labels))));
            }
        }
        steps.sort(Comparator.comparingInt((StepCounts c) -> stageOrder(c.stage()))
                .thenComparingInt(c -> serviceOrder(c.service())).thenComparing(StepCounts::service));
        return steps;
    }

    /** Per stage, loss-mask's {@code millrace_batches_total} from whichever reachable service reports it; empty when none does. */
    public static Map<String, Double> batchesWritten(List<ServiceProbe.State> services) {
        Map<String, Double> written = new TreeMap<>();
        for (ServiceProbe.State s : services) {
            if (s.metrics() == null) {
                continue;
            }
            for (PrometheusText.Sample sample : s.metrics().named(BATCHES)) {
                if (sample.label("stage") != null) {
                    written.merge(sample.label("stage"), sample.value(), Double::sum);
                }
            }
        }
        return written;
    }

    /** The trainers among the reachable services: any whose metrics have {@code millrace_trainer_steps_total}, one per stage label. */
    public static List<TrainerState> trainers(List<ServiceProbe.State> services) {
        List<TrainerState> trainers = new ArrayList<>();
        for (ServiceProbe.State s : services) {
            if (s.metrics() == null) {
                continue;
            }
            for (PrometheusText.Sample steps : s.metrics().named(TRAINER_STEPS)) {
                String stage = Objects.requireNonNullElse(steps.label("stage"), "-");
                Map<String, String> labels = steps.label("stage") == null ? Map.of() : Map.of("stage", stage);
                trainers.add(new TrainerState(s.name(), stage, steps.value(), value(s.metrics().sum(TRAINER_LOSS, labels)),
                        value(s.metrics().sum(TRAINER_CHECKPOINT_AGE, labels))));
            }
        }
        return trainers;
    }

    /** Dead letters counted by stage (in stage order), service and reason. */
    public static List<DeadLetterCount> deadLetters(List<DeadLetterScan.Entry> entries) {
        Map<List<String>, Long> counts = new TreeMap<>(Comparator.<List<String>>comparingInt(k -> stageOrder(k.get(0)))
                .thenComparingInt(k -> serviceOrder(k.get(1))).thenComparing(k -> String.join("\u0000", k)));
        for (DeadLetterScan.Entry e : entries) {
            String stage = e.letter().getStage() == WireStage.STAGE_UNSPECIFIED ? "-" : DlqOutput.stage(e.letter());
            counts.merge(List.of(stage, e.letter().getService().isEmpty() ? "-" : e.letter().getService(), e.letter().getReason()), 1L, Long::sum);
        }
        List<DeadLetterCount> list = new ArrayList<>();
        counts.forEach((k, n) -> list.add(new DeadLetterCount(k.get(0), k.get(1), k.get(2), n)));
        return list;
    }

    private static double value(OptionalDouble v) {
        return v.orElse(Double.NaN);
    }

    static int stageOrder(String stage) {
        for (Stage s : Stage.values()) {
            if (s.id().equals(stage)) {
                return s.ordinal();
            }
        }
        return Stage.values().length;
    }

    /** The pipeline's order of services; others after them. */
    static int serviceOrder(String service) {
        int i = List.of("ingest", "chat-template", "tokenize", "loss-mask", "trainer", "teacher").indexOf(service);
        return i < 0 ? Integer.MAX_VALUE : i;
    }
}
