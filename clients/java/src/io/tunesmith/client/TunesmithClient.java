package io.tunesmith.client;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The Java client of {@code tunesmith serve}, with the Python SDK's behaviour: batches of any size
 * sent in requests of {@code batchSize} texts and answered in order; connection errors, 429, 502,
 * 503 and 504 retried with exponential back-off and full jitter, waiting at least the server's
 * {@code Retry-After}; any other 4xx thrown at once as {@link TunesmithException} with the
 * server's explanation; API keys; version pinning; the version and request id on every answer.
 *
 * <pre>{@code
 * TunesmithClient client = TunesmithClient.builder("http://127.0.0.1:8000").apiKey(key).build();
 * Prediction p = client.predict("如何重置密码?");
 * client.feedback(p.requestId(), true);
 * }</pre>
 *
 * <p>Thread-safe: one client per service is enough (it holds one {@link HttpClient}).
 */
public final class TunesmithClient {
    private static final Set<Integer> RETRY_STATUS = Set.of(429, 502, 503, 504);

    private final HttpClient http;
    private final String baseUrl;
    private final String apiKey;
    private final String version;
    private final Duration timeout;
    private final int retries;
    private final double backoff;
    private final double maxBackoff;
    private final int batchSize;

    private TunesmithClient(Builder b) {
        this.baseUrl = b.baseUrl.replaceAll("/+$", "");
        this.apiKey = b.apiKey;
        this.version = b.version;
        this.timeout = b.timeout;
        this.retries = b.retries;
        this.backoff = b.backoff;
        this.maxBackoff = b.maxBackoff;
        this.batchSize = b.batchSize;
        // HTTP/1.1: the default h2c upgrade loses a POST's body on servers without HTTP/2 (uvicorn)
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(b.timeout)
                .build();
    }

    public static Builder builder(String baseUrl) {
        return new Builder(baseUrl);
    }

    /** The answer for one text. */
    public Prediction predict(String text) {
        return predict(List.of(text)).get(0);
    }

    /** The answer for one text and its second text (QA context, or a candidate answer). */
    public Prediction predict(String text, String textPair) {
        List<String> pairs = new ArrayList<>();
        pairs.add(textPair);
        return predict(List.of(text), pairs).get(0);
    }

    /** Answers for any number of texts, in order. */
    public List<Prediction> predict(List<String> texts) {
        return predict(texts, null);
    }

    /** Answers for texts with their second texts ({@code textPairs} may hold nulls), in order. */
    public List<Prediction> predict(List<String> texts, List<String> textPairs) {
        if (textPairs != null && textPairs.size() != texts.size()) {
            throw new IllegalArgumentException("textPairs needs one item per text");
        }
        List<Prediction> answers = new ArrayList<>(texts.size());
        for (int start = 0; start < texts.size(); start += batchSize) {
            int end = Math.min(texts.size(), start + batchSize);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("texts", texts.subList(start, end));
            if (textPairs != null) {
                body.put("text_pairs", textPairs.subList(start, end));
            }
            answers.addAll(predictions(request("POST", "/v1/predict", body)));
        }
        return answers;
    }

    /**
     * Answers for rows of a tabular run, in order: each row maps a column the model reads to its
     * value (numbers, strings, null for a missing value), sent {@code batchSize} rows at a time.
     */
    public List<Prediction> predictRows(List<Map<String, Object>> rows) {
        List<Prediction> answers = new ArrayList<>(rows.size());
        for (int start = 0; start < rows.size(); start += batchSize) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("records", rows.subList(start, Math.min(rows.size(), start + batchSize)));
            answers.addAll(predictions(request("POST", "/v1/predict", body)));
        }
        return answers;
    }

    private static List<Prediction> predictions(Object reply) {
        Map<String, Object> r = object(reply);
        List<Prediction> answers = new ArrayList<>();
        for (Object item : (List<?>) r.get("predictions")) {
            answers.add(new Prediction(object(item), (String) r.get("version"), (String) r.get("request_id")));
        }
        return answers;
    }

    /** The knowledge base's answer to a customer's question (a matching run), or a hand-over. */
    public KnowledgeAnswer answer(String question) {
        return answer(question, List.of());
    }

    /**
     * As {@link #answer(String)}, with the conversation so far: turns of {"role", "content"}
     * (role user, assistant, agent or system), which the rewriter reads for its tone.
     */
    public KnowledgeAnswer answer(String question, List<Map<String, String>> conversation) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("question", question);
        body.put("conversation", conversation);
        Map<String, Object> r = object(request("POST", "/v1/answer", body));
        return new KnowledgeAnswer(
                (String) r.get("status"),
                (String) r.get("answer"),
                number(r.get("confidence")),
                number(r.get("threshold")),
                objects(r.get("candidates")),
                objects(r.get("filtered")),
                (String) r.get("version"),
                (String) r.get("request_id"));
    }

    /** Record whether an answer helped, for the online A/B test ({@code tunesmith ab-test}). */
    public Map<String, Object> feedback(String requestId, boolean helped) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("request_id", requestId);
        body.put("outcome", helped ? 1L : 0L);
        return object(request("POST", "/v1/feedback", body));
    }

    public Map<String, Object> health() {
        return object(request("GET", "/health", null));
    }

    /** Readiness; throws a TunesmithException with status 503 and the reasons while not ready. */
    public Map<String, Object> ready() {
        return object(request("GET", "/ready", null));
    }

    private Object request(String method, String path, Object body) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(timeout);
        if (apiKey != null) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        if (version != null) {
            builder.header("X-Model-Version", version);
        }
        if (body == null) {
            builder.GET();
        } else {
            builder.header("Content-Type", "application/json");
            builder.method(method, HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        }
        HttpRequest request = builder.build();
        for (int attempt = 0; ; attempt++) {
            HttpResponse<String> response = null;
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            } catch (IOException error) {
                if (attempt >= retries) {
                    throw new TunesmithException(0, "cannot reach " + baseUrl + ": " + error);
                }
            } catch (InterruptedException interrupted) {
                Thread.currentThread().interrupt();
                throw new TunesmithException(0, "interrupted");
            }
            if (response != null) {
                int status = response.statusCode();
                if (status < 400) {
                    return Json.parse(response.body());
                }
                if (!RETRY_STATUS.contains(status) || attempt >= retries) {
                    throw new TunesmithException(status, message(response.body()));
                }
            }
            sleep(delay(attempt, response));
        }
    }

    /** Seconds before the next try: back-off with full jitter, at least the Retry-After. */
    private double delay(int attempt, HttpResponse<String> response) {
        double wait = ThreadLocalRandom.current().nextDouble() * Math.min(maxBackoff, backoff * Math.pow(2, attempt));
        if (response != null) {
            String asked = response.headers().firstValue("Retry-After").orElse(null);
            if (asked != null) {
                try {
                    wait = Math.max(wait, Double.parseDouble(asked.trim()));
                } catch (NumberFormatException dateForm) {
                    // an HTTP date: our server never sends one; the back-off stands
                }
            }
        }
        return wait;
    }

    private static void sleep(double seconds) {
        try {
            Thread.sleep((long) (seconds * 1000));
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
            throw new TunesmithException(0, "interrupted");
        }
    }

    /** The server's error and details, as the Python client words them. */
    static String message(String body) {
        try {
            Map<String, Object> error = object(Json.parse(body));
            Object details = error.get("details");
            String text = String.valueOf(error.getOrDefault("error", body));
            if (details instanceof List<?> list && !list.isEmpty()) {
                List<String> parts = new ArrayList<>();
                list.forEach(d -> parts.add(String.valueOf(d)));
                text += " (" + String.join("; ", parts) + ")";
            }
            return text;
        } catch (IllegalArgumentException | ClassCastException notJson) {
            return body;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(Object value) {
        return (Map<String, Object>) value;
    }

    private static List<Map<String, Object>> objects(Object value) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object item : (List<?>) value) {
            out.add(object(item));
        }
        return out;
    }

    private static Double number(Object value) {
        return value instanceof Number n ? n.doubleValue() : null;
    }

    /** Settings of a client; every one has the Python client's default. */
    public static final class Builder {
        private final String baseUrl;
        private String apiKey;
        private String version;
        private Duration timeout = Duration.ofSeconds(30);
        private int retries = 3;
        private double backoff = 0.5;
        private double maxBackoff = 30.0;
        private int batchSize = 64;

        private Builder(String baseUrl) {
            this.baseUrl = baseUrl;
        }

        public Builder apiKey(String key) {
            this.apiKey = key;
            return this;
        }

        /** Ask for this model version (header X-Model-Version). */
        public Builder version(String name) {
            this.version = name;
            return this;
        }

        public Builder timeout(Duration value) {
            this.timeout = value;
            return this;
        }

        public Builder retries(int value) {
            this.retries = value;
            return this;
        }

        /** First back-off in seconds; doubled each try, at most maxBackoff. */
        public Builder backoff(double seconds) {
            this.backoff = seconds;
            return this;
        }

        public Builder maxBackoff(double seconds) {
            this.maxBackoff = seconds;
            return this;
        }

        /** Most texts in one request (the server's --max-texts, 64 by default). */
        public Builder batchSize(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("batchSize must be at least 1");
            }
            this.batchSize = value;
            return this;
        }

        public TunesmithClient build() {
            return new TunesmithClient(this);
        }
    }
}
