package dev.millrace.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./millrace ingest} against a stand-in for the ingest service that rejects every line
 * containing "bad" and records each request (the real service: ingest's CliIngestTest).
 */
class IngestCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private HttpServer server;
    private final List<Map<String, String>> requests = Collections.synchronizedList(new ArrayList<>());
    /** How many rejected lines an answer lists (the real service: the first 1000); {@code rejected} counts all. */
    private int listedErrors = Integer.MAX_VALUE;

    private String serve(int status) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/v1/", exchange -> {
            Map<String, String> request = new LinkedHashMap<>();
            request.put("path", exchange.getRequestURI().getPath());
            for (String kv : exchange.getRequestURI().getRawQuery().split("&")) {
                String[] p = kv.split("=", 2);
                request.put(p[0], URLDecoder.decode(p[1], StandardCharsets.UTF_8));
            }
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            request.put("body", body);
            requests.add(request);
            long first = Long.parseLong(request.get("first-line"));
            String[] lines = body.split("\n", -1);
            List<Map<String, Object>> errors = new ArrayList<>();
            int accepted = 0;
            for (int i = 0; i < lines.length; i++) {
                if (lines[i].contains("bad")) {
                    errors.add(Map.of("line", first + i, "reason", "INVALID_JSON", "message", "not JSON"));
                } else if (!lines[i].isBlank()) {
                    accepted++;
                }
            }
            byte[] answer = status == 200
                    ? JSON.writeValueAsBytes(Map.of("accepted", accepted, "rejected", errors.size(),
                            "errors", errors.subList(0, Math.min(listedErrors, errors.size()))))
                    : "{\"message\": \"stage 'dpo' is not enabled\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status == 200 && !errors.isEmpty() ? 422 : status, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        try (java.io.OutputStream gz = new java.util.zip.GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void sendsEachFileInChunksWithItsSourceAndFirstLineAndSummarises(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("b.jsonl"), "{\"n\":1}\n\nbad\n{\"n\":4}\n{\"n\":5}\n");
        Files.write(data.resolve("a.jsonl.gz"), gzip("{\"n\":1}\r\n".getBytes(StandardCharsets.UTF_8)));
        Files.writeString(data.resolve("notes.txt"), "not sent");
        String url = serve(200);

        CliRun run = CliRun.of("ingest", "--stage", "distill", "--teacher", "ckpt 1", "--format", "openai", "--url", url,
                "--chunk-lines", "2", data.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines()).containsExactly("files=2 records=5 accepted=4 rejected=1");
        assertThat(run.err()).contains(data.resolve("b.jsonl") + ":3 INVALID_JSON not JSON");
        String a = data.resolve("a.jsonl.gz").toAbsolutePath().toString();
        String b = data.resolve("b.jsonl").toAbsolutePath().toString();
        assertThat(requests).extracting(r -> r.get("source") + "@" + r.get("first-line"))
                .containsExactly(a + "@1", b + "@1", b + "@3", b + "@5");
        assertThat(requests).extracting(r -> r.get("body")).containsExactly("{\"n\":1}", "{\"n\":1}\n", "bad\n{\"n\":4}", "{\"n\":5}");
        assertThat(requests).allSatisfy(r -> {
            assertThat(r.get("path")).isEqualTo("/v1/distill/records");
            assertThat(r.get("teacher")).isEqualTo("ckpt 1");
            assertThat(r.get("format")).isEqualTo("openai");
        });
    }

    @Test
    void rejectedLinesAnAnswerDoesNotListAreCountedAndSaidToBeUnlisted(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a.jsonl"), "bad 1\n{\"n\":2}\nbad 3\nbad 4\n");
        listedErrors = 1;
        String url = serve(200);

        CliRun run = CliRun.of("ingest", "--stage", "pretrain", "--url", url, file.toString());

        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.outLines()).containsExactly("files=1 records=4 accepted=1 rejected=3");
        assertThat(run.err()).contains(file + ":1 INVALID_JSON not JSON").doesNotContain(file + ":3 ")
                .contains(file + ": 2 more rejected lines of the chunk from line 1 are not listed in ingest's answer");
    }

    @Test
    void anUnreachableServiceIsExitStatusOne(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a.jsonl"), "{\"text\": \"x\"}\n");
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort(); // closed again: nothing listens there
        }

        CliRun run = CliRun.of("ingest", "--stage", "pretrain", "--url", "http://127.0.0.1:" + port, file.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err()).contains("cannot reach the ingest service").doesNotContain("Exception:");
    }

    @Test
    void aRefusalOfTheServiceIsExitStatusOneWithItsMessage(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a.jsonl"), "{\"chosen\": 1}\n");
        String url = serve(400);

        CliRun run = CliRun.of("ingest", "--stage", "dpo", "--url", url, file.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains("HTTP 400").contains("stage 'dpo' is not enabled");
    }

    @Test
    void aCorruptGzipFileIsExitStatusOneNamingTheFile(@TempDir Path dir) throws Exception {
        byte[] gz = gzip("{\"n\":1}\n".repeat(5000).getBytes(StandardCharsets.UTF_8));
        Path file = dir.resolve("cut.jsonl.gz");
        Files.write(file, java.util.Arrays.copyOf(gz, gz.length / 2));
        String url = serve(200);

        CliRun run = CliRun.of("ingest", "--stage", "sft", "--url", url, file.toString());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).contains(file + " could not be read");
    }

    @Test
    void usageErrorsAreExitStatusTwo(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("a.jsonl"), "{}\n");
        assertThat(CliRun.of("ingest", "--stage", "sft", dir.resolve("missing.jsonl").toString()).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("ingest", "--stage", "finetune", file.toString()).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("ingest", "--stage", "sft", "--teacher", "t", file.toString()).err()).contains("only to --stage distill");
        CliRun format = CliRun.of("ingest", "--stage", "sft", "--format", "text", file.toString());
        assertThat(format.exitCode()).isEqualTo(2);
        assertThat(format.err()).contains("does not fit the sft stage");
        assertThat(CliRun.of("ingest", "--stage", "sft", "--url", "localhost:8081", file.toString()).exitCode()).isEqualTo(2);
        assertThat(CliRun.of("ingest", "--stage", "sft").exitCode()).isEqualTo(2);
        assertThat(requests).isEmpty();
    }
}
