package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

/** Expected strings from Python's datetime.strftime on the same instants. */
class TemplateFunctionsTest {

    @Test
    void strftimeMatchesPythonForTheDirectivesTemplatesUse() {
        ZonedDateTime t = ZonedDateTime.of(2024, 3, 5, 14, 7, 9, 0, ZoneOffset.UTC);

        assertThat(TemplateFunctions.strftime(t, "%Y-%m-%d %H:%M:%S|%I %p|%B %b|%A %a|%j %y|%e|%%|%F|%q"))
                .isEqualTo("2024-03-05 14:07:09|02 PM|March Mar|Tuesday Tue|065 24| 5|%|2024-03-05|%q");
    }

    @Test
    void midnightIsTwelveAm() {
        ZonedDateTime t = ZonedDateTime.of(2024, 12, 25, 0, 30, 0, 0, ZoneOffset.UTC);

        assertThat(TemplateFunctions.strftime(t, "%I %p %H")).isEqualTo("12 AM 00");
    }

    @Test
    void aTrailingPercentIsKept() {
        assertThat(TemplateFunctions.strftime(ZonedDateTime.now(), "100%")).isEqualTo("100%");
    }

    @Test
    void raiseExceptionThrowsWithTheTemplatesMessage() {
        assertThatThrownBy(() -> TemplateFunctions.raiseException("no system role"))
                .isInstanceOf(TemplateFunctions.TemplateRaised.class).hasMessage("no system role");
    }
}
