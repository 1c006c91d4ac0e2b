package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code ./millrace demo} prepares the bundled sample data and prints the CLI.md summary line. */
class DemoCommandTest {
    private static final Pattern SUMMARY = Pattern.compile(
            "stage=sft records=(\\d+) rejected=(\\d+) batches=(\\d+) nonpad_share=(0\\.\\d{3}) trained_share=(0\\.\\d{3}) packing=off");

    @Test
    void summarisesEveryBundledSampleLine() throws Exception {
        long lines;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(
                DemoCommandTest.class.getResourceAsStream(DemoCommand.SAMPLE_SFT), StandardCharsets.UTF_8))) {
            lines = r.lines().filter(l -> !l.isBlank()).count();
        }

        CliRun run = CliRun.of("demo");

        assertThat(run.exitCode()).as(run.err()).isZero();
        List<String> out = run.outLines();
        Matcher m = SUMMARY.matcher(out.get(out.size() - 1));
        assertThat(m.matches()).as(out.get(out.size() - 1)).isTrue();
        long records = Long.parseLong(m.group(1));
        long rejected = Long.parseLong(m.group(2));
        assertThat(records).isGreaterThanOrEqualTo(200);
        assertThat(rejected).isGreaterThanOrEqualTo(5); // the sample data carries bad lines of several kinds
        assertThat(records + rejected).isEqualTo(lines);
        assertThat(Long.parseLong(m.group(3))).isEqualTo((records + 15) / 16);
        double nonPad = Double.parseDouble(m.group(4));
        double trained = Double.parseDouble(m.group(5));
        assertThat(trained).isPositive().isLessThan(nonPad);
        assertThat(nonPad).isLessThanOrEqualTo(1.0);
    }
}
