package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.millrace.cli.local.RepoRoot;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** The addresses {@code status} (and {@code ingest}) try by default are the services' own default ports. */
class DeploymentDefaultsTest {
    @Test
    void serviceUrlsAreTheServicesDefaultPortsOnLoopback() throws Exception {
        Path services = RepoRoot.locate().orElseThrow().resolve("services");
        DeploymentDefaults.SERVICE_URLS.forEach((service, url) -> {
            Properties p = new Properties();
            try (Reader in = Files.newBufferedReader(services.resolve(service).resolve("src/main/resources/application.properties"))) {
                p.load(in);
            } catch (Exception e) {
                throw new AssertionError(service, e);
            }
            assertThat(url).as(service).isEqualTo("http://127.0.0.1:" + p.getProperty("quarkus.http.port"));
        });
        assertThat(DeploymentDefaults.INGEST_URL).isEqualTo(DeploymentDefaults.SERVICE_URLS.get("ingest"));
    }
}
