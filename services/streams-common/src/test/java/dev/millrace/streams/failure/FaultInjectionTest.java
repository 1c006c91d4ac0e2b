package dev.millrace.streams.failure;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FaultInjectionTest {
    @Test
    void offWithoutEntriesAndEachServiceTakesOnlyItsOwn() {
        assertThat(FaultInjection.recordsFor("tokenize", List.of())).isEmpty();
        List<String> entries = List.of("chat-template:a1", "tokenize:b2", " tokenize : c3 ", "loss-mask:d4");
        assertThat(FaultInjection.recordsFor("tokenize", entries)).containsExactly("b2", "c3");
        assertThat(FaultInjection.recordsFor("chat-template", entries)).containsExactly("a1");
        assertThat(FaultInjection.recordsFor("ingest", entries)).isEmpty();
    }

    @Test
    void anEntryThatNamesNoServiceOrNoRecordStopsTheService() {
        assertThatThrownBy(() -> FaultInjection.recordsFor("tokenize", List.of("b2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("millrace.fault-injection.throw-on-records: \"b2\"");
        assertThatThrownBy(() -> FaultInjection.recordsFor("tokenize", List.of("tokenise:b2")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown pipeline service 'tokenise'");
        assertThatThrownBy(() -> FaultInjection.recordsFor("tokenize", List.of("tokenize:")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onlyAListedRecordThrowsAndWithAnExceptionNoStepExpects() {
        FaultInjection.throwIfListed(Set.of(), "tokenize", "b2");
        FaultInjection.throwIfListed(Set.of("b2"), "tokenize", "other");
        FaultInjection.throwIfListed(Set.of("b2"), "tokenize", null);
        assertThatThrownBy(() -> FaultInjection.throwIfListed(Set.of("b2"), "tokenize", "b2"))
                .isInstanceOf(FaultInjection.InjectedFault.class)
                .isNotInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tokenize throws on record b2");
    }
}
