package dev.millrace.cli.ops;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * Asks one service over HTTP how it is: Quarkus' {@code /q/health/ready} and {@code /q/health/live}
 * (200: UP, 503: DOWN) and its Prometheus metrics at {@code /q/metrics}. Never throws: what did not
 * answer is said in words.
 */
public final class ServiceProbe {
    private static final Duration TIMEOUT = Duration.ofSeconds(3);

    /** A service's answers; {@code metrics} null when they could not be read ({@code metricsProblem} says why). */
    public record State(String name, String url, String ready, String live, PrometheusText metrics, String metricsProblem) {
    }

    public static final String UNREACHABLE = "unreachable";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    public State probe(String name, String url) {
        String base = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        String ready = health(base + "/q/health/ready");
        String live = health(base + "/q/health/live");
        PrometheusText metrics = null;
        String problem = null;
        try {
            HttpResponse<String> r = get(base + "/q/metrics");
            if (r.statusCode() == 200) {
                metrics = PrometheusText.parse(r.body());
            } else {
                problem = "HTTP " + r.statusCode();
            }
        } catch (IOException | IllegalArgumentException e) {
            problem = unreachable(e);
        }
        return new State(name, base, ready, live, metrics, problem);
    }

    private String health(String url) {
        try {
            int status = get(url).statusCode();
            return switch (status) {
                case 200 -> "UP";
                case 503 -> "DOWN";
                default -> "HTTP " + status;
            };
        } catch (IOException | IllegalArgumentException e) {
            return unreachable(e);
        }
    }

    private HttpResponse<String> get(String url) throws IOException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(TIMEOUT).GET().build();
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private static String unreachable(Exception e) {
        if (e instanceof ConnectException) {
            return UNREACHABLE + " (connection refused)";
        }
        if (e instanceof HttpTimeoutException) {
            return UNREACHABLE + " (no answer in " + TIMEOUT.toSeconds() + " s)";
        }
        String message = e.getMessage();
        return UNREACHABLE + " (" + (message == null ? e.getClass().getSimpleName() : message) + ")";
    }
}
