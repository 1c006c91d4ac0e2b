package dev.millrace.cli.ops;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** The one screen of {@code ./millrace status}: a titled table per part; a part that could not be read says so. */
public final class StatusOutput {
    private StatusOutput() {
    }

    public static void print(PrintStream out, StatusReport r) {
        out.println("broker " + r.bootstrap() + ": " + (r.brokerProblem() == null ? "reachable" : "UNREACHABLE (" + r.brokerProblem() + ")")
                + "; topic prefix " + r.topicPrefix());

        section(out, "SERVICES (health: /q/health/ready and /q/health/live; /q/metrics)");
        TextTable services = new TextTable("SERVICE", "URL", "READY", "LIVE", "METRICS");
        r.services().forEach(s -> services.row(s.name(), s.url(), s.ready(), s.live(), s.metrics() != null ? "read" : s.metricsProblem()));
        services.print(out);

        section(out, "RECORDS (per stage and step, counted by each service since it started)");
        List<StatusReport.StepCounts> steps = StatusReport.steps(r.services());
        if (steps.isEmpty()) {
            out.println("(no service answered with its metrics)");
        } else {
            TextTable table = new TextTable("STAGE", "SERVICE", "IN", "OUT", "DEAD LETTERS");
            steps.forEach(c -> table.row(c.stage(), c.service(), count(c.in()), count(c.out()), count(c.deadLetters())));
            table.print(out);
        }

        section(out, "CONSUMER LAG (committed offsets of each consumer group on " + r.topicPrefix() + ".* topics vs end offsets)");
        if (r.brokerProblem() != null) {
            out.println("(unavailable: the broker did not answer)");
        } else if (r.lags().isEmpty()) {
            out.println("(no consumer group has committed offsets on these topics)");
        } else {
            TextTable table = new TextTable("GROUP", "TOPIC", "LAG", "COMMITTED", "END");
            r.lags().forEach(l -> table.row(l.group(), l.topic(), l.lag(), l.committed(), l.end()));
            table.print(out);
        }

        section(out, "BATCHES (per stage: loss-mask's count since it started; the batch topic's end offsets, transaction markers included)");
        if (r.batches().isEmpty()) {
            out.println(r.brokerProblem() != null ? "(unavailable: the broker did not answer, nor did loss-mask)" : "(no batch topic and no loss-mask metrics)");
        } else {
            TextTable table = new TextTable("STAGE", "TOPIC", "WRITTEN", "END OFFSETS");
            r.batches().forEach(b -> table.row(b.stage(), b.topic(), b.written() == null ? "?" : count(b.written()),
                    b.topicEndOffsets() != null ? b.topicEndOffsets() : r.brokerProblem() != null ? "?" : "no topic"));
            table.print(out);
        }

        section(out, "DEAD LETTERS (" + r.topicPrefix() + ".dlq, by stage, service and reason)");
        if (r.brokerProblem() != null) {
            out.println("(unavailable: the broker did not answer)");
        } else if (r.deadLetterProblem() != null) {
            out.println("(unavailable: " + r.deadLetterProblem() + ")");
        } else if (r.deadLetters().isEmpty()) {
            out.println("(none)");
        } else {
            TextTable table = new TextTable("STAGE", "SERVICE", "REASON", "COUNT");
            r.deadLetters().forEach(d -> table.row(d.stage(), d.service(), d.reason(), d.count()));
            table.print(out);
        }

        section(out, "TRAINERS (from the metrics of each reachable service that trains)");
        List<StatusReport.TrainerState> trainers = StatusReport.trainers(r.services());
        if (trainers.isEmpty()) {
            out.println("(no trainer answered)");
        } else {
            TextTable table = new TextTable("SERVICE", "STAGE", "STEP", "LOSS", "CHECKPOINT AGE");
            trainers.forEach(t -> table.row(t.service(), t.stage(), count(t.step()), decimal(t.loss()), age(t.checkpointAgeSeconds())));
            table.print(out);
        }
    }

    private static void section(PrintStream out, String title) {
        out.println();
        out.println(title);
    }

    static String count(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f", v);
    }

    static String decimal(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** Seconds as {@code 42s}, {@code 3m05s}, {@code 2h07m}; "-" before the first checkpoint. */
    static String age(double seconds) {
        if (Double.isNaN(seconds) || seconds < 0) {
            return "-";
        }
        long s = Math.round(seconds);
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
