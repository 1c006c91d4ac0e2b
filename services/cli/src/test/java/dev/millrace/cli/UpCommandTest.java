package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./millrace up} without the packaged system: usage errors, the missing-build message and its fixed ports.
 * The run itself (SIGINT, a second up continuing) is tested end to end in services/it.
 */
class UpCommandTest {

    @Test
    void badOptionsAreUsageErrors(@TempDir Path dir) {
        CliRun run = CliRun.of("up", "--seq-len", "1");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--seq-len must be at least 2");
        assertThat(run.out()).isEmpty();

        CliRun dpo = CliRun.of("up", "--train", "dpo");
        assertThat(dpo.exitCode()).isEqualTo(2);
        assertThat(dpo.err()).contains("--train dpo needs --init dpo=DIR");

        CliRun notServed = CliRun.of("up", "--stages", "pretrain", "--train", "sft");
        assertThat(notServed.exitCode()).isEqualTo(2);
        assertThat(notServed.err()).contains("--train sft: the stage is not among --stages");

        CliRun initNotTrained = CliRun.of("up", "--train", "sft", "--init", "dpo=" + dir);
        assertThat(initNotTrained.exitCode()).isEqualTo(2);
        assertThat(initNotTrained.err()).contains("--init dpo=...: the stage is not trained");

        CliRun bind = CliRun.of("up", "--bind", "192.0.2.1");
        assertThat(bind.exitCode()).isEqualTo(2);
        assertThat(bind.err()).contains("--bind 192.0.2.1: give a loopback address or 0.0.0.0");

        assertThat(CliRun.of("up", "--broker-port", "0").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("up", "--ingest-port", "70000").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("up", "--packing", "rlhf").exitCode()).isEqualTo(2);
        assertThat(CliRun.of("up", "--tokenizer", dir.resolve("missing").toString()).exitCode()).isEqualTo(2);
    }

    @Test
    void saysWhatToBuildWhenThePackagedSystemIsMissing(@TempDir Path emptyCheckout) {
        CliRun run = CliRun.of("up", "--repo-root", emptyCheckout.toString(), "--train", "sft");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("services/kafka-local/target/lib").contains("services/trainer/target/quarkus-app/quarkus-run.jar")
                .contains("./mvnw -DskipTests package").doesNotContain("Exception");
    }

    @Test
    void aDataDirectoryOfAnotherSeqLenIsRefusedBeforeAnythingStarts(@TempDir Path data) throws Exception {
        java.nio.file.Files.writeString(data.resolve(UpCommand.SETTINGS_FILE), "seq-len=64\n");

        CliRun run = CliRun.of("up", "--data-dir", data.toString(), "--seq-len", "128");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("the data directory " + data.toAbsolutePath().normalize() + " holds batches and checkpoints of T=64, not --seq-len 128");
        assertThat(data.resolve("kafka")).doesNotExist();
    }

    @Test
    void everyProcessHasItsOwnFixedPort() {
        assertThat(UpCommand.httpPort("ingest")).isEqualTo(8081);
        assertThat(UpCommand.httpPort("chat-template")).isEqualTo(8082);
        assertThat(UpCommand.httpPort("tokenize")).isEqualTo(8083);
        assertThat(UpCommand.httpPort("loss-mask")).isEqualTo(8084);
        assertThat(UpCommand.httpPort("trainer-pretrain")).isEqualTo(8090);
        assertThat(UpCommand.httpPort("trainer-sft")).isEqualTo(8091);
        assertThat(UpCommand.httpPort("trainer-dpo")).isEqualTo(8092);
        assertThat(UpCommand.httpPort("trainer-distill")).isEqualTo(8093);
        assertThat(UpCommand.BROKER_PORT).as("where ingest, trace and dlq look by default")
                .isEqualTo(Integer.parseInt(DeploymentDefaults.BOOTSTRAP.substring(DeploymentDefaults.BOOTSTRAP.indexOf(':') + 1)));
        assertThat(DeploymentDefaults.INGEST_URL).endsWith(":" + UpCommand.httpPort("ingest"));
    }
}
