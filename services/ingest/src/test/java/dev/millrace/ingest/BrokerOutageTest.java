package dev.millrace.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.errors.NotEnoughReplicasException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** When a request is refused at once, and when one is let through to find out whether the broker is back. */
class BrokerOutageTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final BrokerOutage outage = new BrokerOutage(now::get);

    private void advanceSeconds(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(seconds));
    }

    private static CompletionException timedOut() {
        return new CompletionException(new TimeoutException("Expiring 1 record(s) for millrace.sft.raw-0: 10005 ms has passed since batch creation"));
    }

    @Test
    void nothingIsRefusedUntilASendTimesOut() {
        assertThat(outage.refusal()).isEmpty();
        outage.outcome(new CompletionException(new NotEnoughReplicasException("not enough replicas")));
        assertThat(outage.refusal()).as("a refusal by a broker that answers is not an outage").isEmpty();
    }

    @Test
    void afterATimeoutRequestsAreRefusedThenOneProbesAndItsSuccessEndsTheOutage() {
        outage.outcome(timedOut());
        advanceSeconds(2);
        assertThat(outage.refusal()).hasValueSatisfying(away ->
                assertThat(away.getMessage()).contains("2 s ago").contains("Expiring 1 record(s)").contains("nothing of this body was sent"));

        advanceSeconds(BrokerOutage.RETRY_AFTER_SECONDS);
        assertThat(outage.refusal()).as("the probe").isEmpty();
        assertThat(outage.refusal()).as("while the probe is out").isPresent();

        outage.outcome(null);
        assertThat(outage.refusal()).isEmpty();
        assertThat(outage.refusal()).isEmpty();
    }

    @Test
    void aProbeThatTimesOutAgainRefusesForAnotherRetryAfterCountedFromTheStartOfTheOutage() {
        outage.outcome(timedOut());
        advanceSeconds(BrokerOutage.RETRY_AFTER_SECONDS);
        assertThat(outage.refusal()).as("the probe").isEmpty();
        advanceSeconds(10);
        outage.outcome(timedOut());

        advanceSeconds(BrokerOutage.RETRY_AFTER_SECONDS - 1);
        assertThat(outage.refusal()).hasValueSatisfying(away -> assertThat(away.getMessage()).contains(" 19 s ago"));
        advanceSeconds(1);
        assertThat(outage.refusal()).as("the next probe").isEmpty();
    }

    @Test
    void aProbeThatFailsOtherwiseLetsTheNextRequestProbe() {
        outage.outcome(timedOut());
        advanceSeconds(BrokerOutage.RETRY_AFTER_SECONDS);
        assertThat(outage.refusal()).isEmpty();
        outage.outcome(new CompletionException(new NotEnoughReplicasException("not enough replicas")));
        assertThat(outage.refusal()).as("the broker answered, but acknowledged nothing yet: the next request probes again").isEmpty();
        assertThat(outage.refusal()).isPresent();
    }
}
