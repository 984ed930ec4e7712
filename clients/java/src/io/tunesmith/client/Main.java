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
            System.err.println("usage: Main URL predict|answer [--key K] [--version V] [--batch-size N] "
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
                List<String> texts = new ArrayList<>(rest);
                if (texts.isEmpty()) {
                    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
                    for (String line; (line = in.readLine()) != null; ) {
                        if (!line.isBlank()) {
                            texts.add(line);
                        }
                    }
                }
                for (Prediction p : client.predict(texts)) {
                    Map<String, Object> row = new LinkedHashMap<>(p.answer());
                    row.put("version", p.version());
                    row.put("request_id", p.requestId());
                    out.println(Json.write(row));
                }
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
                System.err.println("unknown command " + args[1] + ": use predict or answer");
                System.exit(2);
            }
        } catch (TunesmithException refused) {
            System.err.println(refused.getMessage());
            System.exit(1);
        }
    }
}
