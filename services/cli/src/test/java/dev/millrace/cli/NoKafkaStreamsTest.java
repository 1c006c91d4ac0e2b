package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The CLI takes topic names from the contract module, which brings neither Kafka Streams nor RocksDB. */
class NoKafkaStreamsTest {

    @Test
    void neitherKafkaStreamsNorRocksDbIsOnTheClasspath() {
        assertThatThrownBy(() -> Class.forName("org.apache.kafka.streams.KafkaStreams")).isInstanceOf(ClassNotFoundException.class);
        assertThatThrownBy(() -> Class.forName("org.rocksdb.RocksDB")).isInstanceOf(ClassNotFoundException.class);
    }
}
