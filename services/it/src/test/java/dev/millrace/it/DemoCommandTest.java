package dev.millrace.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.Millrace;
import dev.millrace.it.Expectations.Kind;
import dev.millrace.it.Expectations.Line;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code ./millrace demo}, run in-process: it starts the whole system, feeds it the bundled sample,
 * prints the CLI.md summary line on standard output and stops everything it started. The numbers
 * must be what offline preparation of the same file gives (duplicates of a record id counted once:
 * the system drops them).
 */
class DemoCommandTest {
    private static final Pattern SUMMARY = Pattern.compile(
            "stage=sft records=(\\d+) rejected=(\\d+) batches=(\\d+) nonpad_share=(\\d\\.\\d{3}) trained_share=(\\d\\.\\d{3}) packing=off");
    private static final Pattern RUN_DIR = Pattern.compile("process logs in (\\S+)\\)");

    @Test
    void runsTheWholeSystemOnTheSampleAndPrintsTheSummary() throws Exception {
        Repo.packagedRoot();
        Expectations expected = Expectations.of(EndToEndTest.sample(), 512);
        Set<Long> childrenBefore = children();

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Millrace.run(new String[] {"demo"}, o, e); // finds the checkout through millrace.repo.root
        }
        String stderr = err.toString(StandardCharsets.UTF_8);
        System.err.print(stderr);
        System.err.printf(Locale.ROOT, "demo took %.1f s%n", (System.nanoTime() - t0) / 1e9);

        assertThat(code).as(stderr).isZero();
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).as("standard output carries only the summary").hasSize(1);
        Matcher m = SUMMARY.matcher(lines.get(0));
        assertThat(m.matches()).as(lines.get(0)).isTrue();

        // Offline: one row per distinct good record id; rejected = ingest rejections + downstream dead letters.
        Map<String, Line> good = expected.goodById();
        long rows = good.size();
        long nonPad = good.values().stream().mapToLong(l -> l.row().realLength()).sum();
        long trained = good.values().stream().mapToLong(l -> l.row().trainedTokens()).sum();
        long rejected = expected.of(Kind.INGEST_REJECT).size()
                + expected.of(Kind.DOWNSTREAM_REJECT).stream().map(Line::recordId).distinct().count();
        String offline = String.format(Locale.ROOT, "records=%d rejected=%d nonpad_share=%.3f trained_share=%.3f",
                rows, rejected, (double) nonPad / (rows * 512), (double) trained / (rows * 512));
        String system = String.format(Locale.ROOT, "records=%s rejected=%s nonpad_share=%s trained_share=%s",
                m.group(1), m.group(2), m.group(4), m.group(5));
        assertThat(system).as("the demo's numbers against offline preparation (input lines repeating a record id: %s)",
                expected.repeatedIds().values()).isEqualTo(offline);
        long batches = Long.parseLong(m.group(3));
        assertThat(batches).isBetween((rows + 15) / 16, rows);

        // Everything it started is stopped, and it said where the logs are.
        assertThat(children()).as("child processes left running").isSubsetOf(childrenBefore);
        Matcher dir = RUN_DIR.matcher(stderr);
        assertThat(dir.find()).as(stderr).isTrue();
        assertThat(Path.of(dir.group(1)).resolve("loss-mask.log")).satisfies(p -> assertThat(Files.isRegularFile(p)).isTrue());
    }

    private static Set<Long> children() {
        Set<Long> pids = new HashSet<>();
        ProcessHandle.current().descendants().filter(ProcessHandle::isAlive).forEach(p -> pids.add(p.pid()));
        return pids;
    }
}
