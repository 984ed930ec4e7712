package io.tunesmith.client;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A command line over the client, for a shell script or a quick check:
 *
 * <pre>
 * java -cp tunesmith-client.jar io.tunesmith.client.Main URL predict [options] &lt; texts.txt
 * java -cp tunesmith-client.jar io.tunesmith.client.Main URL predict-rows [options] &lt; rows.jsonl
 * java -cp tunesmith-client.jar io.tunesmith.client.Main URL answer [options] "question"
 * options: --key KEY --version NAME --batch-size N --retries N --backoff SECONDS
 * </pre>
 *
 * Prints one JSON object per answer; a refusal prints the status and reason on stderr, exit 1.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length < 2) {
            System.err.println("usage: Main URL predict|predict-rows|answer [--key K] [--version V] [--batch-size N] "
                    + "[--retries N] [--backoff S] [question]");
            System.exit(2);
        }
        TunesmithClient.Builder builder = TunesmithClient.builder(args[0]);
        List<String> rest = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            switch (args[i]) {
                case "--key" -> builder.apiKey(args[++i]);
                case "--version" -> builder.version(args[++i]);
                case "--batch-size" -> builder.batchSize(Integer.parseInt(args[++i]));
                case "--retries" -> builder.retries(Integer.parseInt(args[++i]));
                case "--backoff" -> builder.backoff(Double.parseDouble(args[++i]));
                default -> rest.add(args[i]);
            }
        }
        TunesmithClient client = builder.build();
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try {
            if (args[1].equals("predict")) {
                List<String> texts = rest.isEmpty() ? stdinLines() : new ArrayList<>(rest);
                print(out, client.predict(texts));
            } else if (args[1].equals("predict-rows")) {
                List<Map<String, Object>> rows = new ArrayList<>();
                for (String line : stdinLines()) {
                    rows.add(row(Json.parse(line)));
                }
                print(out, client.predictRows(rows));
            } else if (args[1].equals("answer")) {
                KnowledgeAnswer a = client.answer(String.join(" ", rest));
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("status", a.status());
                row.put("answer", a.answer());
                row.put("confidence", a.confidence());
                row.put("threshold", a.threshold());
                row.put("candidates", a.candidates());
                row.put("filtered", a.filtered());
                row.put("version", a.version());
                out.println(Json.write(row));
            } else {
                System.err.println("unknown command " + args[1] + ": use predict, predict-rows or answer");
                System.exit(2);
            }
        } catch (TunesmithException refused) {
            System.err.println(refused.getMessage());
            System.exit(1);
        }
    }

    /** The non-blank lines of standard input. */
    private static List<String> stdinLines() throws java.io.IOException {
        List<String> lines = new ArrayList<>();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            if (!line.isBlank()) {
                lines.add(line);
            }
        }
        return lines;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> row(Object parsed) {
        if (!(parsed instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("each line of rows must be a JSON object of column: value");
        }
        return (Map<String, Object>) parsed;
    }

    /** One JSON object per answer, with the version that answered and the request id. */
    private static void print(PrintStream out, List<Prediction> answers) {
        for (Prediction p : answers) {
            Map<String, Object> row = new LinkedHashMap<>(p.answer());
            row.put("version", p.version());
            row.put("request_id", p.requestId());
            out.println(Json.write(row));
        }
    }
}
