package dev.millrace.cli;

import dev.millrace.cli.ops.BrokerStatus;
import dev.millrace.cli.ops.DeadLetterScan;
import dev.millrace.cli.ops.ServiceProbe;
import dev.millrace.cli.ops.StatusOutput;
import dev.millrace.cli.ops.StatusReport;
import dev.millrace.cli.ops.TopicScan;
import dev.millrace.contract.Topics;
import dev.millrace.core.record.Stage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ./millrace status}: one screen about a running deployment. The services' health and
 * counters come from their HTTP endpoints, lag, batches and dead letters from the broker; the work
 * is in {@code dev.millrace.cli.ops} ({@link ServiceProbe}, {@link BrokerStatus}, {@link StatusReport},
 * {@link StatusOutput}).
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "One screen about a running system: health, records per step, lag, batches, dead letters, trainers.")
final class StatusCommand extends Millrace.OutputAware {

    @Option(names = {"--bootstrap", "--bootstrap-servers"}, defaultValue = DeploymentDefaults.BOOTSTRAP, paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (default ${DEFAULT-VALUE})")
    String bootstrap;

    @Option(names = "--topic-prefix", defaultValue = DeploymentDefaults.TOPIC_PREFIX, paramLabel = "P", description = "topic prefix (default ${DEFAULT-VALUE})")
    String topicPrefix;

    @Option(names = "--service", paramLabel = "NAME=URL",
            description = "a service's HTTP address (repeatable); replaces the default of that name, or adds one (e.g. a second trainer). "
                    + "Defaults: ingest=http://127.0.0.1:8081, chat-template=…:8082, tokenize=…:8083, loss-mask=…:8084, trainer=…:8085, teacher=…:8086")
    List<String> services = new ArrayList<>();

    @Override
    public void run() {
        Map<String, String> urls = urls();
        Topics topics = new Topics(topicPrefix);
        ServiceProbe probe = new ServiceProbe();
        List<ServiceProbe.State> states = new ArrayList<>();
        urls.forEach((name, url) -> states.add(probe.probe(name, url)));
        // The trainers `up` starts, on its fixed ports: listed when they answer (a stage `up` does not train has none).
        DeploymentDefaults.upTrainerUrls().forEach((name, url) -> {
            if (!urls.containsKey(name)) {
                ServiceProbe.State state = probe.probe(name, url);
                if (!state.ready().startsWith(ServiceProbe.UNREACHABLE)) {
                    states.add(state);
                }
            }
        });

        String brokerProblem = null;
        List<BrokerStatus.Lag> lags = List.of();
        List<StatusReport.BatchCount> batches = new ArrayList<>();
        List<StatusReport.DeadLetterCount> deadLetters = List.of();
        String deadLetterProblem = null;
        Map<String, Double> written = StatusReport.batchesWritten(states);
        try (BrokerStatus broker = new BrokerStatus(bootstrap)) {
            Set<String> existing = broker.topics();
            lags = broker.lags(topicPrefix + ".");
            List<String> batchTopics = new ArrayList<>();
            for (Stage s : Stage.values()) {
                if (existing.contains(topics.batches(s))) {
                    batchTopics.add(topics.batches(s));
                }
            }
            Map<String, Long> ends = broker.endOffsets(batchTopics);
            for (Stage s : Stage.values()) {
                Long end = ends.get(topics.batches(s));
                Double count = written.get(s.id());
                if (end != null || count != null) {
                    batches.add(new StatusReport.BatchCount(s.id(), topics.batches(s), end, count));
                }
            }
            if (!existing.contains(topics.dlq())) {
                deadLetterProblem = "topic " + topics.dlq() + " does not exist";
            } else {
                try (TopicScan scan = new TopicScan(bootstrap)) {
                    deadLetters = StatusReport.deadLetters(DeadLetterScan.read(scan, topics.dlq(), DeadLetterScan.Selection.ALL).entries());
                } catch (TopicScan.Unavailable e) {
                    deadLetterProblem = e.getMessage();
                }
            }
        } catch (TopicScan.Unavailable e) {
            brokerProblem = e.getMessage();
        }

        if (brokerProblem == null) {
            StatusOutput.print(out, new StatusReport(bootstrap, topicPrefix, null, states, lags, batches, deadLetters, deadLetterProblem));
            out.flush();
            return;
        }
        // still worth a screen: the services may answer while the broker does not
        for (Stage s : Stage.values()) {
            if (written.containsKey(s.id())) {
                batches.add(new StatusReport.BatchCount(s.id(), topics.batches(s), null, written.get(s.id())));
            }
        }
        StatusOutput.print(out, new StatusReport(bootstrap, topicPrefix, brokerProblem, states, List.of(), batches, List.of(), null));
        out.flush();
        throw new Millrace.Failure(brokerProblem);
    }

    /** The defaults, with each {@code --service NAME=URL} replacing the default of its name or added after them. */
    Map<String, String> urls() {
        Map<String, String> urls = new LinkedHashMap<>(DeploymentDefaults.SERVICE_URLS);
        for (String s : services) {
            int eq = s.indexOf('=');
            if (eq < 1 || eq == s.length() - 1) {
                throw new Millrace.UsageError("--service takes NAME=URL, e.g. trainer-sft=http://127.0.0.1:8085 (got '" + s + "')");
            }
            String url = s.substring(eq + 1);
            if (!url.startsWith("http://") && !url.startsWith("https://")) {
                throw new Millrace.UsageError("--service " + s + ": the URL must start with http:// or https://");
            }
            urls.put(s.substring(0, eq), url);
        }
        return urls;
    }
}
