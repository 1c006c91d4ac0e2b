package dev.millrace.streams.failure;

import dev.millrace.contract.PipelineService;
import dev.millrace.contract.SettingNames;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.microprofile.config.ConfigProvider;
import org.jboss.logging.Logger;

/**
 * Tests only: makes a step throw an unexpected exception on chosen records, so that the tests over the
 * packaged services can check what any unforeseen failure on a record becomes (one
 * {@code UNEXPECTED_ERROR} dead letter, the service going on; docs/failures.md#fault-injection-tests-only).
 * No real input makes a step fail that way today, and a test cannot reach into a packaged service.
 *
 * <p>Off unless {@code millrace.fault-injection.throw-on-records} is set. Its entries are
 * {@code <service>:<record id>}: a service acts only on its own entries and only on the exact record ids
 * (SHA-256 of a record's content), so a value set by mistake touches nothing but those records, and what
 * it does to them is what a bug would do: a dead letter an operator sees and can resubmit. A service with
 * entries logs a warning naming the setting when it builds its steps.
 */
public final class FaultInjection {
    private static final Logger LOG = Logger.getLogger(FaultInjection.class);
    static final String KEY = SettingNames.key(SettingNames.FAULT_INJECTION, SettingNames.THROW_ON_RECORDS);

    /** What an injected failure throws: not a type any step catches, so it is an unexpected exception. */
    public static final class InjectedFault extends RuntimeException {
        InjectedFault(String message) {
            super(message);
        }
    }

    private FaultInjection() {
    }

    /** The record ids {@code service}'s steps throw on, from the configuration (empty: off, the default). */
    public static Set<String> recordsFor(String service) {
        List<String> entries = ConfigProvider.getConfig().getOptionalValues(KEY, String.class).orElse(List.of());
        Set<String> ids = recordsFor(service, entries);
        if (!ids.isEmpty()) {
            LOG.warnf("%s=%s: FAULT INJECTION for tests is on; %s throws an unexpected exception on the records %s",
                    KEY, String.join(",", entries), service, ids);
        }
        return ids;
    }

    /**
     * The record ids of {@code service}'s entries.
     *
     * @throws IllegalArgumentException for an entry that is not {@code <service>:<record id>} with a known service
     */
    static Set<String> recordsFor(String service, List<String> entries) {
        Set<String> ids = new TreeSet<>();
        for (String entry : entries) {
            int colon = entry.indexOf(':');
            String named = colon < 0 ? "" : entry.substring(0, colon).trim();
            String id = colon < 0 ? "" : entry.substring(colon + 1).trim();
            if (id.isEmpty()) {
                throw new IllegalArgumentException(KEY + ": \"" + entry + "\" is not <service>:<record id>");
            }
            try {
                PipelineService.fromId(named);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(KEY + ": \"" + entry + "\" is not <service>:<record id>: " + e.getMessage(), e);
            }
            if (named.equals(service)) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** Throws {@link InjectedFault} when {@code key} (a record id) is one of {@code ids}. */
    public static void throwIfListed(Set<String> ids, String service, String key) {
        if (!ids.isEmpty() && key != null && ids.contains(key)) {
            throw new InjectedFault("fault injected by " + KEY + " (tests only): " + service + " throws on record " + key);
        }
    }
}
