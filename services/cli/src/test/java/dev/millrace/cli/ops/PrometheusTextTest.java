package dev.millrace.cli.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PrometheusTextTest {
    static final String EXPOSITION = """
            # HELP millrace_records_in_total Records read by the step
            # TYPE millrace_records_in_total counter
            millrace_records_in_total{service="tokenize",stage="sft"} 12.0
            millrace_records_in_total{service="tokenize",stage="dpo"} 3.0
            millrace_dead_letters_total{reason="TOO_LONG",service="tokenize",stage="sft"} 2.0
            millrace_dead_letters_total{reason="BAD_TEMPLATE",service="tokenize",stage="sft"} 1.0 1733230000000
            millrace_trainer_loss{stage="sft"} NaN
            http_server_requests_seconds_bucket{le="+Inf",uri="/q/metrics"} 4
            quoted{text="a \\"b\\", c\\\\d",empty=""} -1.5e3
            no_labels 7
            this line is not a sample
            broken{unterminated="x 3
            """;

    @Test
    void readsNamesLabelsAndValues() {
        PrometheusText text = PrometheusText.parse(EXPOSITION);

        assertThat(text.named("millrace_records_in_total")).extracting(PrometheusText.Sample::labels, PrometheusText.Sample::value)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(Map.of("service", "tokenize", "stage", "sft"), 12.0),
                        org.assertj.core.groups.Tuple.tuple(Map.of("service", "tokenize", "stage", "dpo"), 3.0));
        assertThat(text.named("millrace_trainer_loss").get(0).value()).isNaN();
        assertThat(text.named("http_server_requests_seconds_bucket").get(0).label("le")).isEqualTo("+Inf");
        assertThat(text.named("quoted").get(0).labels()).containsExactlyInAnyOrderEntriesOf(Map.of("text", "a \"b\", c\\d", "empty", ""));
        assertThat(text.named("quoted").get(0).value()).isEqualTo(-1500.0);
        assertThat(text.named("no_labels").get(0).value()).isEqualTo(7.0);
    }

    @Test
    void aLineThatIsNoSampleIsSkippedAndTheOthersStay() {
        PrometheusText text = PrometheusText.parse(EXPOSITION);

        assertThat(text.samples()).extracting(PrometheusText.Sample::name).doesNotContain("this", "broken")
                .hasSize(8);
        assertThat(PrometheusText.parse("").samples()).isEmpty();
        assertThat(PrometheusText.parse("a 1\r\nb 2\r\n").samples()).extracting(PrometheusText.Sample::value).containsExactly(1.0, 2.0);
    }

    @Test
    void sumsTheSamplesWhoseLabelsInclude() {
        PrometheusText text = PrometheusText.parse(EXPOSITION);

        assertThat(text.sum("millrace_dead_letters_total", Map.of("stage", "sft")).getAsDouble()).isEqualTo(3.0);
        assertThat(text.sum("millrace_dead_letters_total", Map.of("stage", "sft", "reason", "TOO_LONG")).getAsDouble()).isEqualTo(2.0);
        assertThat(text.sum("millrace_records_in_total", Map.of()).getAsDouble()).isEqualTo(15.0);
        assertThat(text.sum("millrace_dead_letters_total", Map.of("stage", "dpo"))).isEmpty();
        assertThat(text.sum("absent", Map.of())).isEmpty();
    }
}
