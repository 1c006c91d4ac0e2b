package dev.millrace.teacher;

import dev.millrace.contract.Topics;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.generate.ChatModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The teacher's life: once the app has started, a thread of its own loads the pinned checkpoint ({@link ChatModel}),
 * checks that its tokenizer folder is the pipeline's, and runs the {@link TeacherLoop} until the app stops. A
 * checkpoint that does not load or does not match, or a loop that fails (a fenced producer: another instance took
 * this instance id over), is logged at ERROR and the process exits 1. On SIGTERM the loop ends after the prompt in
 * process and commits what it answered.
 */
@ApplicationScoped
public class TeacherService {
    private static final Logger LOG = Logger.getLogger(TeacherService.class);

    /** Where the service stands. */
    public enum State { STARTING, ANSWERING, FAILED, STOPPED }

    @Inject
    TeacherConfig config;

    @Inject
    @Identifier("default-kafka-broker")
    Map<String, Object> kafka;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Inject
    MeterRegistry registry;

    private volatile State state = State.STARTING;
    private volatile TeacherLoop loop;
    private volatile boolean shuttingDown;
    private final CountDownLatch finished = new CountDownLatch(1);
    private Thread thread;

    void onStart(@Observes StartupEvent event) {
        thread = new Thread(this::answer, "millrace-teacher");
        thread.start();
    }

    private void answer() {
        TeacherConfig.Teacher t = config.teacher();
        int exitCode = 0;
        try (ChatModel chat = ChatModel.open(t.checkpoint())) {
            try (TokenizerFolder pipeline = TokenizerFolder.open(config.tokenizerFolder())) {
                chat.requireTokenizerFingerprint(pipeline.fingerprint());
            }
            PromptAnswerer answerer = new PromptAnswerer(chat, new PromptAnswerer.Settings(t.maxNewTokens(), t.temperature(), t.topP(),
                    t.onMaxNewTokens(), t.maxPromptTokens()));
            Map<String, Object> clients = new HashMap<>(kafka);
            clients.put("bootstrap.servers", bootstrapServers);
            Topics topics = new Topics(config.topicPrefix());
            TeacherMetrics metrics = new TeacherMetrics(registry, chat.id(), t.maxNewTokens());
            try (TeacherLoop opened = new TeacherLoop(new TeacherLoop.Settings(topics, t.instanceId(), t.commitEveryPrompts(), t.commitInterval(),
                    clients), answerer, metrics)) {
                loop = opened;
                state = State.ANSWERING;
                if (shuttingDown) {
                    opened.stop();
                }
                LOG.infof("teacher %s (checkpoint %s) answers %s into %s as %s: max-new-tokens %d, %s, on-max-new-tokens=%s",
                        chat.id(), t.checkpoint(), topics.distillPrompts(), topics.raw(dev.millrace.core.record.Stage.DISTILL), t.instanceId(),
                        t.maxNewTokens(), t.temperature() == 0 ? "greedy" : "temperature " + t.temperature() + " top-p " + t.topP(),
                        t.onMaxNewTokens().id());
                opened.run();
            }
            state = State.STOPPED;
        } catch (IllegalArgumentException | IllegalStateException e) {
            state = State.FAILED;
            LOG.errorf("teacher stopped: %s", e.getMessage());
            LOG.debug("teacher failure", e);
            exitCode = 1;
        } catch (Throwable e) {
            state = State.FAILED;
            LOG.errorf(e, "teacher failed: %s", e.getMessage());
            exitCode = 1;
        } finally {
            finished.countDown();
        }
        if (!shuttingDown) {
            Quarkus.asyncExit(exitCode);
        }
    }

    /** SIGTERM, or the end of the app: the loop ends after the prompt in process and commits; this waits for it. */
    void onStop(@Observes ShutdownEvent event) {
        shuttingDown = true;
        if (thread == null) {
            return;
        }
        TeacherLoop current = loop;
        if (current != null) {
            current.stop();
        }
        Duration limit = config.teacher().stuckAfter();
        try {
            if (!finished.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.errorf("teacher did not stop within %s (stuck-after): exiting; its open transaction is aborted by the broker", limit);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public State state() {
        return state;
    }

    /** The running loop; null before the model is loaded. */
    public TeacherLoop loop() {
        return loop;
    }

    public Duration stuckAfter() {
        return config.teacher().stuckAfter();
    }
}
